/* Checkpoints: save -> load gives bitwise-identical outputs; the loader
 * refuses truncation, trailing bytes, flipped bits, an unknown version,
 * absurd sizes, malformed architecture text and non-finite numbers (the
 * last ones with a valid CRC, so the later checks are reached). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "nn/checkpoint.h"

typedef struct fixture {
  ope_mlp *q, *pi;
  ope_norm *norm;
  uint8_t *blob;
  size_t len;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  ope_mlp_config cq, cp;
  ope_mlp_config_make(&cq, 6, 2, 32, 1, OPE_ACT_RELU);
  ope_mlp_config_make(&cp, 4, 1, 16, 2, OPE_ACT_GELU);
  cp.layernorm = 1;
  if (ope_mlp_new(&cq, &f->q, NULL) || ope_mlp_new(&cp, &f->pi, NULL) ||
      ope_norm_new(4, &f->norm, NULL))
    return -1;
  ope_rng rng;
  ope_rng_seed(&rng, 42, 0);
  ope_mlp_init(f->q, OPE_INIT_HE, &rng);
  ope_mlp_init(f->pi, OPE_INIT_ORTHOGONAL, &rng);
  for (int j = 0; j < 4; j++)
    f->norm->mean[j] = 0.1 * j, f->norm->std[j] = 1 + j;
  ope_ckpt ck = {0};
  ck.n_nets = 2;
  strcpy(ck.name[0], "critic");
  strcpy(ck.name[1], "actor");
  ck.net[0] = f->q;
  ck.net[1] = f->pi;
  ck.settings = "{\"algo\":\"test\",\"gamma\":0.99}";
  ck.obs_norm = f->norm;
  ck.reward_shift = 0.5;
  ck.reward_scale = 2.0;
  if (ope_ckpt_save(&ck, &f->blob, &f->len, NULL) != OPE_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  ope_mlp_free(f->q);
  ope_mlp_free(f->pi);
  ope_norm_free(f->norm);
  free(f->blob);
  free(f);
  return 0;
}

static void test_crc32_known_value(void **state) {
  (void)state;
  assert_int_equal(ope_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
}

static void test_round_trip_bitwise(void **state) {
  fixture *f = *state;
  ope_ckpt *ck = NULL;
  ope_error err;
  assert_int_equal(ope_ckpt_load(f->blob, f->len, &ck, &err), OPE_OK);
  assert_int_equal(ck->n_nets, 2);
  assert_string_equal(ck->settings, "{\"algo\":\"test\",\"gamma\":0.99}");
  assert_true(ck->reward_shift == 0.5 && ck->reward_scale == 2.0);
  assert_true(ck->obs_norm->std[3] == 4.0);
  const ope_mlp *src[2] = {f->q, f->pi};
  const char *names[2] = {"critic", "actor"};
  for (int k = 0; k < 2; k++) {
    ope_mlp *m = ope_ckpt_net(ck, names[k]);
    assert_non_null(m);
    assert_true(m->cfg.layernorm == src[k]->cfg.layernorm);
    assert_memory_equal(m->params, src[k]->params, m->n_params * sizeof(float));
    ope_mlp_ws *w1, *w2;
    assert_int_equal(ope_mlp_ws_new(m, 8, &w1, NULL), OPE_OK);
    assert_int_equal(ope_mlp_ws_new(src[k], 8, &w2, NULL), OPE_OK);
    float x[8 * 6];
    for (int i = 0; i < 8 * 6; i++) x[i] = (float)sin(i);
    const float *a = ope_mlp_forward(m, w1, x, 8);
    const float *b = ope_mlp_forward(src[k], w2, x, 8);
    assert_memory_equal(a, b, 8 * (size_t)m->cfg.out * sizeof(float));
    ope_mlp_ws_free(w1);
    ope_mlp_ws_free(w2);
  }
  assert_null(ope_ckpt_net(ck, "nope"));
  // save again: identical bytes
  uint8_t *again;
  size_t len2;
  assert_int_equal(ope_ckpt_save(ck, &again, &len2, NULL), OPE_OK);
  assert_int_equal(len2, f->len);
  assert_memory_equal(again, f->blob, f->len);
  free(again);
  ope_ckpt_free(ck);
  ope_ckpt_free(NULL);
}

/* Load must fail with OPE_EDATA and a message containing `want`. */
static void refuse(const uint8_t *b, size_t n, const char *want) {
  ope_ckpt *ck = (ope_ckpt *)1;
  ope_error err;
  ope_error_clear(&err);
  assert_int_equal(ope_ckpt_load(b, n, &ck, &err), OPE_EDATA);
  assert_null(ck);
  if (strstr(err.msg, want) == NULL) {
    printf("message '%s' lacks '%s'\n", err.msg, want);
    fail();
  }
}

/* Patch a copy, fix its CRC, and expect a refusal. */
static void refuse_patched(const fixture *f, size_t off, const void *bytes,
                           size_t n, const char *want) {
  uint8_t *b = malloc(f->len);
  memcpy(b, f->blob, f->len);
  memcpy(b + off, bytes, n);
  uint32_t crc = ope_crc32(0, b, f->len - 4);
  for (int i = 0; i < 4; i++) b[f->len - 4 + i] = (uint8_t)(crc >> (8 * i));
  refuse(b, f->len, want);
  free(b);
}

static void test_refuses_corruption(void **state) {
  fixture *f = *state;
  // every truncation
  for (size_t n = 0; n < f->len; n += (n < 64 ? 1 : 97)) refuse(f->blob, n, "");
  refuse(f->blob, f->len - 1, "truncated");
  // trailing bytes
  uint8_t *big = calloc(1, f->len + 3);
  memcpy(big, f->blob, f->len);
  refuse(big, f->len + 3, "trailing");
  free(big);
  // a flipped bit anywhere past the header
  uint8_t *b = malloc(f->len);
  for (size_t off = 41; off < f->len; off += 131) {
    memcpy(b, f->blob, f->len);
    b[off] ^= 0x10;
    refuse(b, f->len, "CRC");
  }
  free(b);
  uint8_t le[8];
  // unknown version
  le[0] = 2, le[1] = le[2] = le[3] = 0;
  refuse_patched(f, 8, le, 4, "version 2");
  // bad magic
  refuse_patched(f, 0, "NOTCKPT", 8, "magic");
  // absurd network count and parameter count
  le[0] = 200;
  refuse_patched(f, 12, le, 4, "number of networks");
  memset(le, 0xff, 8);
  refuse_patched(f, 32, le, 8, "limits");
  // a width that no longer adds up: "in=6" -> "in=7"
  const char *arch = (const char *)f->blob + 40;
  size_t at = (size_t)(strstr(arch, "in=6") - arch) + 40 + 3;
  refuse_patched(f, at, "7", 1, "parameters");
  refuse_patched(f, at, "x", 1, "architecture line 1");
  // unknown activation name
  at = (size_t)(strstr(arch, "act=gelu") - arch) + 40 + 4;
  refuse_patched(f, at, "selu", 4, "architecture line 2");
  // a NaN parameter: the first float of the first network
  size_t params_at = f->len - 4 - 4 * (f->q->n_params + f->pi->n_params);
  float nan = NAN;
  uint8_t nb[4];
  uint32_t u;
  memcpy(&u, &nan, 4);
  for (int i = 0; i < 4; i++) nb[i] = (uint8_t)(u >> (8 * i));
  refuse_patched(f, params_at, nb, 4, "non-finite");
  // a zero reward scale
  size_t reward_at = params_at - 16 * 4 - 16;
  uint8_t zero[8] = {0};
  refuse_patched(f, reward_at + 8, zero, 8, "reward normalization");
}

static void test_save_refuses_bad_input(void **state) {
  fixture *f = *state;
  ope_ckpt ck = {0};
  uint8_t *b;
  size_t n;
  assert_int_equal(ope_ckpt_save(&ck, &b, &n, NULL), OPE_EUSAGE);
  ck.n_nets = 2;
  strcpy(ck.name[0], "same");
  strcpy(ck.name[1], "same");
  ck.net[0] = ck.net[1] = f->q;
  assert_int_equal(ope_ckpt_save(&ck, &b, &n, NULL), OPE_EUSAGE);
  strcpy(ck.name[1], "bad name");
  assert_int_equal(ope_ckpt_save(&ck, &b, &n, NULL), OPE_EUSAGE);
  assert_null(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_crc32_known_value),
    cmocka_unit_test(test_round_trip_bitwise),
    cmocka_unit_test(test_refuses_corruption),
    cmocka_unit_test(test_save_refuses_bad_input),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
