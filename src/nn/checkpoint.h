/* Checkpoints: networks, their normalization and settings as one BLOB.
 *
 * The store keeps checkpoints as BLOBs; this module turns a set of named
 * MLPs plus settings into bytes and back. Layout (little-endian):
 *
 *   offset size
 *        0    8  magic "OPECKPT" followed by a 0 byte
 *        8    4  u32 format version (OPE_CKPT_VERSION)
 *       12    4  u32 number of networks (1 .. OPE_CKPT_MAX_NETS)
 *       16    4  u32 length of the architecture text (<= OPE_CKPT_MAX_ARCH)
 *       20    4  u32 length of the settings text (<= OPE_CKPT_MAX_SETTINGS)
 *       24    4  u32 width of the observation normalization (0 = none)
 *       28    4  u32 0 (reserved)
 *       32    8  u64 total parameter count (<= OPE_MLP_MAX_PARAMS)
 *       40       architecture text: one line per network,
 *                "mlp NAME in=I out=O hidden=H1,H2 act=relu layernorm=0"
 *                settings text (opaque to this module, e.g. JSON)
 *                f64 reward shift, f64 reward scale
 *                f64 mean[width], f64 std[width]
 *                f32 parameters of each network in order (mlp.h layout)
 *      end-4   4  u32 CRC-32 (IEEE 802.3) of every byte before it
 *
 * The loader checks, in this order, the fixed header, the limits, that the
 * sizes add up to exactly the BLOB's length, the CRC, then that the
 * architecture text parses and its networks have the stated parameter count,
 * and that every number is finite. It allocates only after all of that, so
 * a hostile BLOB cannot make it allocate more than the limits allow. */
#ifndef OPE_NN_CHECKPOINT_H
#define OPE_NN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "nn/mlp.h"
#include "nn/norm.h"

#define OPE_CKPT_VERSION 1
#define OPE_CKPT_MAX_NETS 8
#define OPE_CKPT_MAX_NAME 31
#define OPE_CKPT_MAX_ARCH 65536
#define OPE_CKPT_MAX_SETTINGS (1 << 20)
#define OPE_CKPT_MAX_NORM 65536

typedef struct ope_ckpt {
  int n_nets;
  char name[OPE_CKPT_MAX_NETS][OPE_CKPT_MAX_NAME + 1]; /* [A-Za-z0-9_.-]+ */
  ope_mlp *net[OPE_CKPT_MAX_NETS];
  char *settings;            /* NUL-terminated text without NUL bytes, or NULL */
  ope_norm *obs_norm;        /* or NULL */
  double reward_shift;       /* networks saw (r - shift) / scale */
  double reward_scale;       /* 1 = none */
} ope_ckpt;

/* Serialize ck into a fresh malloc'd buffer (*blob, *len); the caller frees
 * it with free(). ck is only read: its networks and norm stay the caller's.
 * OPE_EUSAGE when ck breaks a limit (names, counts, texts). */
ope_status ope_ckpt_save(const ope_ckpt *ck, uint8_t **blob, size_t *len,
                         ope_error *err);

/* Parse blob into a fresh checkpoint whose networks, norm and settings are
 * owned by it (free with ope_ckpt_free). OPE_EDATA with a message saying
 * what is wrong for anything inconsistent; *out is NULL then. */
ope_status ope_ckpt_load(const uint8_t *blob, size_t len, ope_ckpt **out,
                         ope_error *err);

/* Free a checkpoint from ope_ckpt_load together with everything it points
 * to. NULL is a no-op. */
void ope_ckpt_free(ope_ckpt *ck);

/* The network called name in ck, or NULL. */
ope_mlp *ope_ckpt_net(const ope_ckpt *ck, const char *name);

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of n bytes, continuing
 * from crc (start with 0). */
uint32_t ope_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
