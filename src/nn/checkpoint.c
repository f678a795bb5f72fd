/* Checkpoint BLOB writer and validating reader; see checkpoint.h for the
 * layout. Bytes are written one at a time in little-endian order so that
 * the format does not depend on the host. */
#include "nn/checkpoint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_SIZE 40
static const uint8_t MAGIC[8] = {'O', 'P', 'E', 'C', 'K', 'P', 'T', 0};

uint32_t ope_crc32(uint32_t crc, const uint8_t *p, size_t n) {
  // nibble-at-a-time table for the reflected polynomial 0xEDB88320
  static const uint32_t tab[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u,
    0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u,
    0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u,
    0xBDBDF21Cu};
  crc = ~crc;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    crc = (crc >> 4) ^ tab[crc & 15];
    crc = (crc >> 4) ^ tab[crc & 15];
  }
  return ~crc;
}

/* ---- little-endian writing ---- */

static uint8_t *put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) *p++ = (uint8_t)(v >> (8 * i));
  return p;
}
static uint8_t *put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) *p++ = (uint8_t)(v >> (8 * i));
  return p;
}
static uint8_t *put_f64(uint8_t *p, double x) {
  uint64_t v;
  memcpy(&v, &x, 8);
  return put_u64(p, v);
}
static uint8_t *put_f32(uint8_t *p, float x) {
  uint32_t v;
  memcpy(&v, &x, 4);
  return put_u32(p, v);
}
static uint32_t get_u32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint64_t get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static double get_f64(const uint8_t *p) {
  uint64_t v = get_u64(p);
  double x;
  memcpy(&x, &v, 8);
  return x;
}
static float get_f32(const uint8_t *p) {
  uint32_t v = get_u32(p);
  float x;
  memcpy(&x, &v, 4);
  return x;
}

static const char *act_name(ope_nn_act a) {
  return a == OPE_ACT_TANH ? "tanh" : a == OPE_ACT_GELU ? "gelu" : "relu";
}

static int name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > OPE_CKPT_MAX_NAME) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return 0;
  }
  return 1;
}

/* Append one network's architecture line to buf (size cap); returns the
 * new length or -1 when it does not fit. */
static int arch_line(char *buf, int used, int cap, const char *name,
                     const ope_mlp_config *c) {
  int n = snprintf(buf + used, (size_t)(cap - used), "mlp %s in=%d out=%d hidden=",
                   name, c->in, c->out);
  if (n < 0 || n >= cap - used) return -1;
  used += n;
  for (int i = 0; i < c->n_hidden; i++) {
    n = snprintf(buf + used, (size_t)(cap - used), "%s%d", i ? "," : "",
                 c->hidden[i]);
    if (n < 0 || n >= cap - used) return -1;
    used += n;
  }
  n = snprintf(buf + used, (size_t)(cap - used), " act=%s layernorm=%d\n",
               act_name(c->act), c->layernorm);
  if (n < 0 || n >= cap - used) return -1;
  return used + n;
}

ope_status ope_ckpt_save(const ope_ckpt *ck, uint8_t **blob, size_t *len,
                         ope_error *err) {
  *blob = NULL;
  *len = 0;
  if (ck->n_nets < 1 || ck->n_nets > OPE_CKPT_MAX_NETS)
    return ope_error_set(err, OPE_EUSAGE, "checkpoint",
                         "%d networks (1 to %d allowed)", ck->n_nets,
                         OPE_CKPT_MAX_NETS);
  char *arch = malloc(OPE_CKPT_MAX_ARCH + 1);
  if (arch == NULL) return ope_error_nomem(err);
  ope_status st = OPE_OK;
  int alen = 0;
  uint64_t n_params = 0;
  for (int k = 0; k < ck->n_nets; k++) {
    if (!name_ok(ck->name[k]) || ck->net[k] == NULL) {
      st = ope_error_set(err, OPE_EUSAGE, "checkpoint",
                         "network %d has no valid name or model", k);
      goto done;
    }
    for (int j = 0; j < k; j++)
      if (strcmp(ck->name[j], ck->name[k]) == 0) {
        st = ope_error_set(err, OPE_EUSAGE, "checkpoint",
                           "network name '%s' used twice", ck->name[k]);
        goto done;
      }
    alen = arch_line(arch, alen, OPE_CKPT_MAX_ARCH + 1, ck->name[k],
                     &ck->net[k]->cfg);
    if (alen < 0) {
      st = ope_error_set(err, OPE_EUSAGE, "checkpoint",
                         "architecture text too long");
      goto done;
    }
    n_params += ck->net[k]->n_params;
  }
  size_t slen = ck->settings ? strlen(ck->settings) : 0;
  int nd = ck->obs_norm ? ck->obs_norm->dim : 0;
  if (slen > OPE_CKPT_MAX_SETTINGS || n_params > OPE_MLP_MAX_PARAMS ||
      nd > OPE_CKPT_MAX_NORM) {
    st = ope_error_set(err, OPE_EUSAGE, "checkpoint",
                       "settings, normalization or parameters too large");
    goto done;
  }
  size_t total = HEADER_SIZE + (size_t)alen + slen + 16 + 16 * (size_t)nd +
                 4 * (size_t)n_params + 4;
  uint8_t *b = malloc(total), *p = b;
  if (b == NULL) {
    st = ope_error_nomem(err);
    goto done;
  }
  memcpy(p, MAGIC, 8), p += 8;
  p = put_u32(p, OPE_CKPT_VERSION);
  p = put_u32(p, (uint32_t)ck->n_nets);
  p = put_u32(p, (uint32_t)alen);
  p = put_u32(p, (uint32_t)slen);
  p = put_u32(p, (uint32_t)nd);
  p = put_u32(p, 0);
  p = put_u64(p, n_params);
  memcpy(p, arch, (size_t)alen), p += alen;
  if (slen) memcpy(p, ck->settings, slen), p += slen;
  p = put_f64(p, ck->reward_shift);
  p = put_f64(p, ck->reward_scale);
  for (int j = 0; j < nd; j++) p = put_f64(p, ck->obs_norm->mean[j]);
  for (int j = 0; j < nd; j++) p = put_f64(p, ck->obs_norm->std[j]);
  for (int k = 0; k < ck->n_nets; k++)
    for (size_t i = 0; i < ck->net[k]->n_params; i++)
      p = put_f32(p, ck->net[k]->params[i]);
  p = put_u32(p, ope_crc32(0, b, total - 4));
  *blob = b;
  *len = total;
done:
  free(arch);
  return st;
}

/* ---- reading ---- */

static ope_status bad(ope_error *err, const char *msg) {
  return ope_error_set(err, OPE_EDATA, "checkpoint", "%s", msg);
}

/* Parse a decimal integer in [lo, hi] from *s up to a non-digit. */
static int parse_int(const char **s, int lo, int hi, int *out) {
  const char *p = *s;
  long v = 0;
  if (*p < '0' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9') {
    v = v * 10 + (*p - '0');
    if (v > hi) return 0;
    p++;
  }
  if (v < lo) return 0;
  *out = (int)v;
  *s = p;
  return 1;
}

static int expect(const char **s, const char *lit) {
  size_t n = strlen(lit);
  if (strncmp(*s, lit, n) != 0) return 0;
  *s += n;
  return 1;
}

/* One "mlp NAME in=.. out=.. hidden=.. act=.. layernorm=..\n" line. */
static int parse_line(const char **s, const char *end, char *name,
                      ope_mlp_config *c) {
  const char *p = *s;
  memset(c, 0, sizeof *c);
  if (!expect(&p, "mlp ")) return 0;
  size_t n = 0;
  while (p < end && *p != ' ') {
    if (n >= OPE_CKPT_MAX_NAME) return 0;
    name[n++] = *p++;
  }
  name[n] = 0;
  if (!name_ok(name)) return 0;
  if (!expect(&p, " in=") || !parse_int(&p, 1, OPE_MLP_MAX_WIDTH, &c->in))
    return 0;
  if (!expect(&p, " out=") || !parse_int(&p, 1, OPE_MLP_MAX_WIDTH, &c->out))
    return 0;
  if (!expect(&p, " hidden=")) return 0;
  while (*p >= '0' && *p <= '9') {
    if (c->n_hidden >= OPE_MLP_MAX_HIDDEN) return 0;
    if (!parse_int(&p, 1, OPE_MLP_MAX_WIDTH, &c->hidden[c->n_hidden++]))
      return 0;
    if (*p == ',') p++;
    else break;
  }
  if (!expect(&p, " act=")) return 0;
  if (expect(&p, "relu")) c->act = OPE_ACT_RELU;
  else if (expect(&p, "tanh")) c->act = OPE_ACT_TANH;
  else if (expect(&p, "gelu")) c->act = OPE_ACT_GELU;
  else return 0;
  if (!expect(&p, " layernorm=") || !parse_int(&p, 0, 1, &c->layernorm))
    return 0;
  if (!expect(&p, "\n")) return 0;
  *s = p;
  return 1;
}

/* Parameter count of cfg without allocating (mirrors ope_mlp_new). */
static uint64_t count_params(const ope_mlp_config *c) {
  uint64_t n = 0;
  int prev = c->in;
  for (int i = 0; i <= c->n_hidden; i++) {
    int w = i < c->n_hidden ? c->hidden[i] : c->out;
    n += (uint64_t)prev * (uint64_t)w + (uint64_t)w;
    if (c->layernorm && i < c->n_hidden) n += 2 * (uint64_t)w;
    prev = w;
  }
  return n;
}

ope_status ope_ckpt_load(const uint8_t *blob, size_t len, ope_ckpt **out,
                         ope_error *err) {
  *out = NULL;
  if (blob == NULL || len < HEADER_SIZE + 16 + 4)
    return bad(err, "truncated: shorter than the fixed header");
  if (memcmp(blob, MAGIC, 8) != 0)
    return bad(err, "not a checkpoint (bad magic)");
  uint32_t version = get_u32(blob + 8);
  if (version != OPE_CKPT_VERSION)
    return ope_error_set(err, OPE_EDATA, "checkpoint",
                         "unknown format version %u (this build reads %d)",
                         version, OPE_CKPT_VERSION);
  uint32_t n_nets = get_u32(blob + 12), alen = get_u32(blob + 16);
  uint32_t slen = get_u32(blob + 20), nd = get_u32(blob + 24);
  uint64_t n_params = get_u64(blob + 32);
  if (n_nets < 1 || n_nets > OPE_CKPT_MAX_NETS)
    return bad(err, "number of networks out of range");
  if (alen > OPE_CKPT_MAX_ARCH || slen > OPE_CKPT_MAX_SETTINGS ||
      nd > OPE_CKPT_MAX_NORM || n_params > OPE_MLP_MAX_PARAMS ||
      get_u32(blob + 28) != 0)
    return bad(err, "header sizes beyond the format's limits");
  uint64_t want = (uint64_t)HEADER_SIZE + alen + slen + 16 + 16 * (uint64_t)nd +
                  4 * n_params + 4;
  if (want != (uint64_t)len)
    return ope_error_set(err, OPE_EDATA, "checkpoint",
                         "%s: header says %llu bytes, have %zu",
                         want > len ? "truncated" : "trailing bytes",
                         (unsigned long long)want, len);
  if (ope_crc32(0, blob, len - 4) != get_u32(blob + len - 4))
    return bad(err, "CRC mismatch: the checkpoint is corrupted");

  const char *arch = (const char *)blob + HEADER_SIZE, *aend = arch + alen;
  const char *set = aend;
  if (memchr(arch, 0, alen) || memchr(set, 0, slen))
    return bad(err, "NUL byte in the architecture or settings text");
  char names[OPE_CKPT_MAX_NETS][OPE_CKPT_MAX_NAME + 1];
  ope_mlp_config cfg[OPE_CKPT_MAX_NETS];
  uint64_t sum = 0;
  // the text is not NUL-terminated: copy it so the parser cannot run off
  char *text = malloc((size_t)alen + 1);
  if (text == NULL) return ope_error_nomem(err);
  memcpy(text, arch, alen);
  text[alen] = 0;
  const char *p = text;
  ope_status st = OPE_OK;
  ope_ckpt *ck = NULL;
  for (uint32_t k = 0; k < n_nets; k++) {
    if (!parse_line(&p, text + alen, names[k], &cfg[k]) ||
        ope_mlp_config_check(&cfg[k]) != NULL) {
      st = ope_error_set(err, OPE_EDATA, "checkpoint",
                         "architecture line %u is malformed", k + 1);
      goto fail;
    }
    for (uint32_t j = 0; j < k; j++)
      if (strcmp(names[j], names[k]) == 0) {
        st = ope_error_set(err, OPE_EDATA, "checkpoint",
                           "network name '%s' appears twice", names[k]);
        goto fail;
      }
    sum += count_params(&cfg[k]);
  }
  if (*p != 0) {
    st = bad(err, "extra text after the architecture lines");
    goto fail;
  }
  if (sum != n_params) {
    st = ope_error_set(err, OPE_EDATA, "checkpoint",
                       "architecture needs %llu parameters, header says %llu",
                       (unsigned long long)sum, (unsigned long long)n_params);
    goto fail;
  }
  const uint8_t *q = blob + HEADER_SIZE + alen + slen;
  double shift = get_f64(q), scale = get_f64(q + 8);
  if (!isfinite(shift) || !isfinite(scale) || !(scale > 0)) {
    st = bad(err, "reward normalization is not finite and positive");
    goto fail;
  }
  ck = calloc(1, sizeof *ck);
  if (ck == NULL) {
    st = ope_error_nomem(err);
    goto fail;
  }
  ck->reward_shift = shift;
  ck->reward_scale = scale;
  q += 16;
  ck->settings = malloc((size_t)slen + 1);
  if (ck->settings == NULL) {
    st = ope_error_nomem(err);
    goto fail;
  }
  memcpy(ck->settings, set, slen);
  ck->settings[slen] = 0;
  if (nd > 0) {
    if ((st = ope_norm_new((int)nd, &ck->obs_norm, err)) != OPE_OK) goto fail;
    for (uint32_t j = 0; j < nd; j++) {
      ck->obs_norm->mean[j] = get_f64(q + 8 * j);
      ck->obs_norm->std[j] = get_f64(q + 8 * ((size_t)nd + j));
      if (!isfinite(ck->obs_norm->mean[j]) || !isfinite(ck->obs_norm->std[j]) ||
          ck->obs_norm->std[j] < 0) {
        st = bad(err, "observation normalization is not finite");
        goto fail;
      }
    }
    q += 16 * (size_t)nd;
  }
  for (uint32_t k = 0; k < n_nets; k++) {
    if ((st = ope_mlp_new(&cfg[k], &ck->net[k], err)) != OPE_OK) goto fail;
    ck->n_nets = (int)k + 1;
    memcpy(ck->name[k], names[k], sizeof names[k]);
    float *w = ck->net[k]->params;
    for (size_t i = 0; i < ck->net[k]->n_params; i++, q += 4) {
      w[i] = get_f32(q);
      if (!isfinite(w[i])) {
        st = ope_error_set(err, OPE_EDATA, "checkpoint",
                           "network '%s' has a non-finite parameter", names[k]);
        goto fail;
      }
    }
  }
  free(text);
  *out = ck;
  return OPE_OK;
fail:
  free(text);
  ope_ckpt_free(ck);
  return st;
}

void ope_ckpt_free(ope_ckpt *ck) {
  if (ck == NULL) return;
  for (int k = 0; k < ck->n_nets; k++) ope_mlp_free(ck->net[k]);
  free(ck->settings);
  ope_norm_free(ck->obs_norm);
  free(ck);
}

ope_mlp *ope_ckpt_net(const ope_ckpt *ck, const char *name) {
  for (int k = 0; k < ck->n_nets; k++)
    if (strcmp(ck->name[k], name) == 0) return ck->net[k];
  return NULL;
}
