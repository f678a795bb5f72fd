/* The trainers' loss functions with their gradients, over float arrays
 * with sums in double. Each returns the loss and, when its gradient
 * argument is non-NULL, ADDS scale * dLoss/dInput into it (so several
 * losses can share one gradient buffer). Batch means are over rows.
 * Every gradient here is checked against central finite differences in
 * tests/train/test_losses.c. */
#ifndef OPE_TRAIN_LOSSES_H
#define OPE_TRAIN_LOSSES_H

#include <stddef.h>
#include <stdint.h>

/* Expectile regression (Kostrikov et al. 2021, IQL, eq. 5):
 * mean_i |tau - 1(u_i < 0)| u_i^2 over u (n). */
double ope_loss_expectile(const float *u, float *du, size_t n, double tau,
                          double scale);

/* Weighted cross-entropy of logits (B, A) with targets a (B):
 * mean_i w_i (-log softmax(logits_i)[a_i]); w NULL means 1. */
double ope_loss_xent(const float *logits, const int32_t *a, const float *w,
                     float *dlogits, int B, int A, double scale);

/* Row-wise log-sum-exp: mean_i log sum_k exp x_ik over x (B, K). */
double ope_loss_lse(const float *x, float *dx, int B, int K, double scale);

/* Huber loss (delta = 1) of pred - target: mean_i h(pred_i - target_i). */
double ope_loss_huber(const float *pred, const float *target, float *dpred,
                      size_t n, double scale);

/* KL(N(mu, exp(log_std)^2) || N(0, 1)) summed over k dimensions, mean over
 * B rows: 0.5 (mu^2 + s^2 - 1) - log s per dimension (Kingma & Welling
 * 2014, appendix B). */
double ope_loss_gauss_kl(const float *mu, const float *log_std, float *dmu,
                         float *dlog_std, int B, int k, double scale);

/* Diagonal Gaussian negative log-likelihood of x (B, m) under mean mu and
 * log_std, mean over rows; gradients with respect to mu and log_std. */
double ope_loss_gauss_nll(const float *x, const float *mu,
                          const float *log_std, float *dmu, float *dlog_std,
                          const float *w, int B, int m, double scale);

/* TD3+BC's actor objective (Fujimoto & Gu 2021, eq. 3 and 4), to be
 * minimized: -lambda mean_i q_i + mean_ij (pi_ij - a_ij)^2 over q (B) =
 * Q(s_i, pi(s_i)) and pi, a (B, m), with lambda = alpha / mean_i |q_i| held
 * constant (not differentiated, as in the paper). Gradients are added into
 * dq (B) and dpi (B, m); *lambda_out (may be NULL) receives lambda. */
double ope_loss_td3bc_actor(const float *q, const float *pi, const float *a,
                            float *dq, float *dpi, int B, int m, double alpha,
                            double *lambda_out);

/* The Gaussian policy head (ckpt_policy.h, head "gaussian"): a network
 * output y (B, 2m) becomes mean = tanh(y[:, :m]) and log_std = y[:, m:]
 * clipped to [OPE_TRAIN_LOG_STD_MIN, OPE_TRAIN_LOG_STD_MAX]. With
 * squash = 0 the mean is y[:, :m] itself (head "tanh_gaussian", whose tanh
 * comes after sampling). */
void ope_head_gauss_forward(const float *y, float *mean, float *log_std,
                            int B, int m, int squash);
/* dy (B, 2m) += the gradient through the head given dmean and dlog_std;
 * clipped log-stds pass no gradient. */
void ope_head_gauss_backward(const float *y, const float *mean,
                             const float *dmean, const float *dlog_std,
                             float *dy, int B, int m, int squash);

#endif
