/* Layer declarations for one element type; included by layers.h with OPE_R
 * (the element type) and OPE_NN(name) (the suffixed name) defined. No guard:
 * it is meant to be included once per type. */

/* Dense (linear) layer: out = in W + b.
 * in (B,C), w (C,OC), b (OC) or NULL, out (B,OC). */
void OPE_NN(dense_forward)(OPE_R *out, const OPE_R *in, const OPE_R *w,
                           const OPE_R *b, int B, int C, int OC);
/* din (B,C) or NULL += dout W^T; dw (C,OC) += in^T dout; db (OC) or NULL
 * += column sums of dout. */
void OPE_NN(dense_backward)(OPE_R *din, OPE_R *dw, OPE_R *db,
                            const OPE_R *dout, const OPE_R *in,
                            const OPE_R *w, int B, int C, int OC);

/* Elementwise activations over n values; out may equal in.
 * Backward: din += dout * f'(x), given the forward input x (ReLU, GELU) or
 * the forward output y (tanh, whose derivative is 1 - y^2). din may not
 * alias dout unless it was zero beforehand. */
void OPE_NN(relu_forward)(OPE_R *out, const OPE_R *in, size_t n);
void OPE_NN(relu_backward)(OPE_R *din, const OPE_R *dout, const OPE_R *in,
                           size_t n);
void OPE_NN(tanh_forward)(OPE_R *out, const OPE_R *in, size_t n);
void OPE_NN(tanh_backward)(OPE_R *din, const OPE_R *dout, const OPE_R *out,
                           size_t n);
/* GELU, tanh approximation (Hendrycks & Gimpel 2016, "Gaussian Error Linear
 * Units", section 2): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
void OPE_NN(gelu_forward)(OPE_R *out, const OPE_R *in, size_t n);
void OPE_NN(gelu_backward)(OPE_R *din, const OPE_R *dout, const OPE_R *in,
                           size_t n);

/* Layer normalization over each row (Ba, Kiros & Hinton 2016, eq. 4):
 * out = (in - mean) / sqrt(var + eps) * gamma + beta, var biased.
 * in, out (B,C); gamma, beta (C); mean, rstd (B) saved for the backward.
 * Row sums run in eight interleaved partial sums (a fixed order) so the
 * loops vectorize. out and din must not overlap the other arrays. */
#define OPE_NN_LAYERNORM_EPS 1e-5
void OPE_NN(layernorm_forward)(OPE_R *restrict out, OPE_R *mean, OPE_R *rstd,
                               const OPE_R *restrict in,
                               const OPE_R *restrict gamma,
                               const OPE_R *restrict beta, int B, int C);
/* din (B,C) += ..., dgamma, dbeta (C) += ... */
void OPE_NN(layernorm_backward)(OPE_R *restrict din, OPE_R *restrict dgamma,
                                OPE_R *restrict dbeta,
                                const OPE_R *restrict dout,
                                const OPE_R *restrict in,
                                const OPE_R *restrict gamma,
                                const OPE_R *mean, const OPE_R *rstd, int B,
                                int C);

/* Softmax and log-softmax over each row, max-shifted for stability.
 * in, out (B,C). The backwards take the forward OUTPUT. */
void OPE_NN(softmax_forward)(OPE_R *out, const OPE_R *in, int B, int C);
/* din += y * (dout - sum_j dout_j y_j) */
void OPE_NN(softmax_backward)(OPE_R *din, const OPE_R *dout, const OPE_R *out,
                              int B, int C);
void OPE_NN(log_softmax_forward)(OPE_R *out, const OPE_R *in, int B, int C);
/* din += dout - softmax * sum_j dout_j */
void OPE_NN(log_softmax_backward)(OPE_R *din, const OPE_R *dout,
                                  const OPE_R *out, int B, int C);

/* Diagonal Gaussian log-density of x under N(mu, exp(log_std)^2), summed
 * over the m dimensions of each row:
 *   lp_i = sum_j [ -0.5 z^2 - log_std - 0.5 log(2 pi) ], z = (x - mu)/std.
 * x, mu, log_std (B,m); lp (B). */
void OPE_NN(gaussian_logp_forward)(OPE_R *lp, const OPE_R *x, const OPE_R *mu,
                                   const OPE_R *log_std, int B, int m);
/* Given dlp (B): dx, dmu, dlog_std (B,m), each or NULL, += ... */
void OPE_NN(gaussian_logp_backward)(OPE_R *dx, OPE_R *dmu, OPE_R *dlog_std,
                                    const OPE_R *dlp, const OPE_R *x,
                                    const OPE_R *mu, const OPE_R *log_std,
                                    int B, int m);

/* Reparameterized tanh-Gaussian sample and its log-density (Haarnoja et al.
 * 2018, "Soft Actor-Critic", appendix C, eq. 21):
 *   u = mu + exp(log_std) eps,  a = tanh(u),
 *   logp_i = sum_j [ -0.5 eps^2 - log_std - 0.5 log(2 pi)
 *                    - log(1 - tanh(u)^2) ],
 * with log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)) so that saturated
 * actions do not give log(0). mu, log_std, eps, a, u (B,m); lp (B).
 * The noise eps is an input (drawn by the caller from its ope_rng). */
void OPE_NN(tanh_gaussian_forward)(OPE_R *a, OPE_R *u, OPE_R *lp,
                                   const OPE_R *mu, const OPE_R *log_std,
                                   const OPE_R *eps, int B, int m);
/* Given da (B,m) or NULL and dlp (B) or NULL, with eps held fixed:
 * dmu, dlog_std (B,m) += ... */
void OPE_NN(tanh_gaussian_backward)(OPE_R *dmu, OPE_R *dlog_std,
                                    const OPE_R *da, const OPE_R *dlp,
                                    const OPE_R *a, const OPE_R *log_std,
                                    const OPE_R *eps, int B, int m);

/* Mean squared error: returns (1/n) sum (pred - target)^2 and, when dpred is
 * non-NULL, dpred += scale * (2/n) (pred - target). pred, target (n). */
double OPE_NN(mse_forward_backward)(OPE_R *dpred, const OPE_R *pred,
                                    const OPE_R *target, size_t n,
                                    double scale);
