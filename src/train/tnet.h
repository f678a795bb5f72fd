/* A trainable network as the trainers use it: an MLP with its forward
 * workspace, its Adam moments and, for critics, a Polyak-averaged target
 * copy with a workspace of its own (so Q(s, a) and Q_target(s', a') can
 * both be alive before one backward). */
#ifndef OPE_TRAIN_TNET_H
#define OPE_TRAIN_TNET_H

#include "core/error.h"
#include "core/rng.h"
#include "nn/checkpoint.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "train/replay.h"

typedef struct ope_tnet {
  ope_mlp *net;
  ope_mlp_ws *ws;
  ope_adam *opt;
  double lr;
  ope_mlp *targ;       /* NULL without a target copy */
  ope_mlp_ws *tws;
} ope_tnet;

/* Build in -> layers x hidden (ReLU) -> out, He-initialized from rng, with
 * Adam at learning rate lr, forward passes of up to max_batch rows, and a
 * target copy when with_target. On failure everything is released. */
ope_status ope_tnet_init(ope_tnet *t, int in, int out, int hidden, int layers,
                         double lr, int max_batch, int with_target,
                         ope_rng *rng, ope_error *err);
/* Release everything; a zeroed ope_tnet is fine. */
void ope_tnet_clear(ope_tnet *t);

/* Forward B rows of x (B, in) through the network / its target; the output
 * (B, out) lives in the workspace until its next forward. */
const float *ope_tnet_forward(ope_tnet *t, const float *x, int B);
const float *ope_tnet_target(ope_tnet *t, const float *x, int B);

/* Backward of the last forward: gradients are added (din may be NULL). */
void ope_tnet_backward(ope_tnet *t, const float *dout, float *din);

/* One Adam step from the accumulated gradients, then zero them. */
void ope_tnet_update(ope_tnet *t);

/* target <- (1 - tau) target + tau net. */
void ope_tnet_sync(ope_tnet *t, double tau);

/* One regression step of a single-output critic: forward x (B, in),
 * loss = mean_i (Q(x_i) - y_i)^2 with the difference taken in double,
 * dq (B) receives its gradient, then backward and one Adam step. Returns
 * the loss. */
double ope_tnet_mse_step(ope_tnet *q, const float *x, const float *y,
                         float *dq, int B);

/* Input-only backward of the last forward: din (B, in), non-NULL, += the
 * input gradient; the network's own gradients are not touched. */
void ope_tnet_backward_input(ope_tnet *t, const float *dout, float *din);

/* Forward x (B, in) through the targets of a and b (same input width);
 * *oa, *ob receive the outputs. The two run at once when the thread count
 * allows (nn/gemm.h); the results do not depend on it. */
void ope_tnet_target_pair(ope_tnet *a, ope_tnet *b, const float *x, int B,
                          const float **oa, const float **ob);

/* ope_tnet_mse_step of two critics on the same x and y, with their own
 * gradient buffers dqa, dqb (B), run at once when the thread count allows.
 * Returns the mean of the two losses. */
double ope_tnet_mse_step_pair(ope_tnet *a, ope_tnet *b, const float *x,
                              const float *y, float *dqa, float *dqb, int B);

/* The clipped double-Q backup of twin single-output critics (Fujimoto et
 * al. 2018, eq. 10): y (B) = r + gamma (1 - done) min(Q1hat(x), Q2hat(x))
 * with r and done from b and x (B, in) holding (s', a'); computed in
 * float. The two target forwards run as ope_tnet_target_pair. */
void ope_tnet_twin_backup(ope_tnet *q1, ope_tnet *q2, const float *x,
                          const ope_train_batch *b, double gamma, float *y);

/* Hand n networks to a checkpoint (train.h, export_nets): ck->name[k] =
 * names[k], ck->net[k] = nets[k]->net, still owned by the trainer. */
void ope_tnet_export(ope_ckpt *ck, int n, const char *const *names,
                     ope_tnet *const *nets);

/* out (B, nx + ny) = [x | y], x (B, nx), y (B, ny). */
void ope_tnet_concat(float *out, const float *x, int nx, const float *y,
                     int ny, int B);

/* The OPE kernel width of a deterministic policy in action units: setting
 * when > 0, else 0.1 x the mean action scale of the data. */
double ope_train_kernel_bw(const double *act_scale, int m, double setting);

#endif
