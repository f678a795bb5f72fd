/* Loss functions with gradients (losses.h). */
#include "train/losses.h"

#include <math.h>

#include "train/ckpt_policy.h"

double ope_loss_expectile(const float *u, float *du, size_t n, double tau,
                          double scale) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double w = u[i] < 0 ? 1.0 - tau : tau;
    s += w * (double)u[i] * u[i];
    if (du) du[i] += (float)(scale * 2.0 * w * u[i] / (double)n);
  }
  return s / (double)n;
}

double ope_loss_xent(const float *logits, const int32_t *a, const float *w,
                     float *dlogits, int B, int A, double scale) {
  double s = 0;
  for (int i = 0; i < B; i++) {
    const float *z = logits + (size_t)i * A;
    double mx = z[0], sum = 0;
    for (int j = 1; j < A; j++) if (z[j] > mx) mx = z[j];
    for (int j = 0; j < A; j++) sum += exp(z[j] - mx);
    double lse = mx + log(sum), wi = w ? w[i] : 1.0;
    s += wi * (lse - z[a[i]]);
    if (dlogits) {
      float *dz = dlogits + (size_t)i * A;
      double c = scale * wi / B;
      for (int j = 0; j < A; j++)
        dz[j] += (float)(c * (exp(z[j] - lse) - (j == a[i] ? 1.0 : 0.0)));
    }
  }
  return s / B;
}

double ope_loss_lse(const float *x, float *dx, int B, int K, double scale) {
  double s = 0;
  for (int i = 0; i < B; i++) {
    const float *z = x + (size_t)i * K;
    double mx = z[0], sum = 0;
    for (int k = 1; k < K; k++) if (z[k] > mx) mx = z[k];
    for (int k = 0; k < K; k++) sum += exp(z[k] - mx);
    double lse = mx + log(sum);
    s += lse;
    if (dx)
      for (int k = 0; k < K; k++)
        dx[(size_t)i * K + k] += (float)(scale * exp(z[k] - lse) / B);
  }
  return s / B;
}

double ope_loss_huber(const float *pred, const float *target, float *dpred,
                      size_t n, double scale) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double u = (double)pred[i] - target[i], au = fabs(u);
    s += au <= 1.0 ? 0.5 * u * u : au - 0.5;
    if (dpred) {
      double g = au <= 1.0 ? u : (u > 0 ? 1.0 : -1.0);
      dpred[i] += (float)(scale * g / (double)n);
    }
  }
  return s / (double)n;
}

double ope_loss_gauss_kl(const float *mu, const float *log_std, float *dmu,
                         float *dlog_std, int B, int k, double scale) {
  double s = 0;
  for (size_t i = 0; i < (size_t)B * k; i++) {
    double m = mu[i], ls = log_std[i], v = exp(2 * ls);
    s += 0.5 * (m * m + v - 1.0) - ls;
    if (dmu) dmu[i] += (float)(scale * m / B);
    if (dlog_std) dlog_std[i] += (float)(scale * (v - 1.0) / B);
  }
  return s / B;
}

double ope_loss_gauss_nll(const float *x, const float *mu,
                          const float *log_std, float *dmu, float *dlog_std,
                          const float *w, int B, int m, double scale) {
  const double half_log_2pi = 0.5 * log(2.0 * M_PI);
  double s = 0;
  for (int i = 0; i < B; i++) {
    double wi = w ? w[i] : 1.0, c = scale * wi / B;
    for (int j = 0; j < m; j++) {
      size_t k = (size_t)i * m + j;
      double is = exp(-(double)log_std[k]), z = ((double)x[k] - mu[k]) * is;
      s += wi * (0.5 * z * z + log_std[k] + half_log_2pi);
      if (dmu) dmu[k] += (float)(c * -z * is);
      if (dlog_std) dlog_std[k] += (float)(c * (1.0 - z * z));
    }
  }
  return s / B;
}

double ope_loss_td3bc_actor(const float *q, const float *pi, const float *a,
                            float *dq, float *dpi, int B, int m, double alpha,
                            double *lambda_out) {
  double qabs = 0, qsum = 0, bc = 0;
  for (int i = 0; i < B; i++) qabs += fabs(q[i]), qsum += q[i];
  double lambda = alpha / fmax(qabs / B, 1e-12), n = (double)B * m;
  for (int i = 0; i < B; i++) dq[i] += (float)(-lambda / B);
  for (size_t k = 0; k < (size_t)B * m; k++) {
    double diff = (double)pi[k] - a[k];
    bc += diff * diff;
    dpi[k] += (float)(2.0 * diff / n);
  }
  if (lambda_out) *lambda_out = lambda;
  return -lambda * qsum / B + bc / n;
}

void ope_head_gauss_forward(const float *y, float *mean, float *log_std,
                            int B, int m, int squash) {
  for (int i = 0; i < B; i++)
    for (int j = 0; j < m; j++) {
      float u = y[(size_t)i * 2 * m + j], s = y[(size_t)i * 2 * m + m + j];
      mean[(size_t)i * m + j] = squash ? tanhf(u) : u;
      log_std[(size_t)i * m + j] = s < (float)OPE_TRAIN_LOG_STD_MIN ? (float)OPE_TRAIN_LOG_STD_MIN
                                 : s > (float)OPE_TRAIN_LOG_STD_MAX ? (float)OPE_TRAIN_LOG_STD_MAX : s;
    }
}

void ope_head_gauss_backward(const float *y, const float *mean,
                             const float *dmean, const float *dlog_std,
                             float *dy, int B, int m, int squash) {
  for (int i = 0; i < B; i++)
    for (int j = 0; j < m; j++) {
      size_t k = (size_t)i * m + j, o = (size_t)i * 2 * m;
      if (dmean)
        dy[o + j] += squash ? dmean[k] * (1.0f - mean[k] * mean[k]) : dmean[k];
      float s = y[o + m + j];
      if (dlog_std && s >= (float)OPE_TRAIN_LOG_STD_MIN && s <= (float)OPE_TRAIN_LOG_STD_MAX)
        dy[o + m + j] += dlog_std[k];
    }
}
