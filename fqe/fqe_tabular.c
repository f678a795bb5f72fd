/* Tabular FQE (fqe_tabular.h): the state index, the fixed-point system
 * (I - g M) q = b over logged state-action pairs, and its exact solve.
 *
 * Design. Rows are mapped to state ids by hashing observation vectors; the
 * logged pairs (s,a) are numbered 0..P-1. Every row with a target (all but
 * the last of a truncated episode without next_obs) contributes r_t / n_p to
 * b_p and g pi(a'|s') / n_p to M[p][p'] for each logged pair (s',a') of its
 * next state. The coefficients are kept as triplets; the dense path adds
 * them into I - g M and runs a partial-pivoting LU written here in plain
 * loops (so the result does not depend on BLAS threading), the sparse path
 * compresses them for GMRES. */
#include "fqe/fqe_tabular.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_splinalg.h>
#include <gsl/gsl_spmatrix.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fqe/fqe_model.h"

/* ---- distinct observation vectors ------------------------------------- */

typedef struct obs_index {
  int d;
  size_t n, cap;     /* states stored, room in vec */
  double *vec;       /* (cap, d) */
  size_t *first_row; /* (cap) first dataset row with this observation */
  size_t mask;       /* slot count - 1 (a power of two minus one) */
  int64_t *slot;     /* (mask + 1) state id, or -1 when empty */
} obs_index;

static uint64_t hash_obs(const double *x, int d) {
  uint64_t h = 0x243F6A8885A308D3ull;
  for (int j = 0; j < d; j++) {
    double v = x[j] == 0.0 ? 0.0 : x[j]; /* -0 and 0 are one state */
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    h = (h ^ b) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 31;
  }
  return h;
}

static int same_obs(const double *a, const double *b, int d) {
  for (int j = 0; j < d; j++)
    if (a[j] != b[j]) return 0;
  return 1;
}

/* Room for up to max_states states without rehashing. */
static int obs_index_init(obs_index *ix, int d, size_t max_states) {
  memset(ix, 0, sizeof *ix);
  ix->d = d;
  size_t slots = 16;
  while (slots < 2 * max_states + 2) slots <<= 1;
  ix->mask = slots - 1;
  ix->slot = malloc(slots * sizeof *ix->slot);
  if (ix->slot == NULL) return 0;
  for (size_t k = 0; k < slots; k++) ix->slot[k] = -1;
  return 1;
}

static void obs_index_clear(obs_index *ix) {
  free(ix->vec);
  free(ix->first_row);
  free(ix->slot);
  memset(ix, 0, sizeof *ix);
}

static int64_t obs_index_find(const obs_index *ix, const double *x) {
  size_t k = (size_t)hash_obs(x, ix->d) & ix->mask;
  for (;;) {
    int64_t id = ix->slot[k];
    if (id < 0) return -1;
    if (same_obs(ix->vec + (size_t)id * (size_t)ix->d, x, ix->d)) return id;
    k = (k + 1) & ix->mask;
  }
}

/* The id of x, adding it (first seen at `row`) when new; -1 when out of
 * memory. The caller guarantees the slot table has room. */
static int64_t obs_index_add(obs_index *ix, const double *x, size_t row) {
  size_t k = (size_t)hash_obs(x, ix->d) & ix->mask;
  for (;;) {
    int64_t id = ix->slot[k];
    if (id < 0) break;
    if (same_obs(ix->vec + (size_t)id * (size_t)ix->d, x, ix->d)) return id;
    k = (k + 1) & ix->mask;
  }
  if (ix->n == ix->cap) {
    size_t cap = ix->cap ? 2 * ix->cap : 64;
    double *v = realloc(ix->vec, cap * (size_t)ix->d * sizeof *v);
    if (v == NULL) return -1;
    ix->vec = v;
    size_t *f = realloc(ix->first_row, cap * sizeof *f);
    if (f == NULL) return -1;
    ix->first_row = f;
    ix->cap = cap;
  }
  double *dst = ix->vec + ix->n * (size_t)ix->d;
  for (int j = 0; j < ix->d; j++) dst[j] = x[j] == 0.0 ? 0.0 : x[j];
  ix->first_row[ix->n] = row;
  ix->slot[k] = (int64_t)ix->n;
  return (int64_t)ix->n++;
}

size_t ope_fqe_tabular_count_states(const ope_dataset *ds, size_t limit) {
  obs_index ix;
  size_t cap = ds->n_steps < limit + 1 ? ds->n_steps : limit + 1;
  if (!obs_index_init(&ix, ds->obs_dim, cap)) return limit + 1;
  size_t n = 0;
  for (size_t t = 0; t < ds->n_steps && ix.n <= limit; t++)
    if (obs_index_add(&ix, ds->obs + t * (size_t)ds->obs_dim, t) < 0) {
      ix.n = limit + 1;
      break;
    }
  n = ix.n;
  obs_index_clear(&ix);
  return n;
}

/* ---- the model --------------------------------------------------------- */

struct ope_fqe_tabular {
  int A;
  obs_index states;
  double *q;      /* (S, A) Q of every state-action cell (0 if never logged) */
  int defined;
  char why[256];
};

void ope_fqe_tabular_free(ope_fqe_tabular *m) {
  if (m == NULL) return;
  obs_index_clear(&m->states);
  free(m->q);
  free(m);
}

int ope_fqe_tabular_defined(const ope_fqe_tabular *m, const char **why) {
  if (why) *why = m->why;
  return m->defined;
}

double ope_fqe_tabular_q(const ope_fqe_tabular *m, const double *obs, int a) {
  int64_t s = obs_index_find(&m->states, obs);
  if (s < 0 || a < 0 || a >= m->A) return 0.0;
  return m->q[(size_t)s * (size_t)m->A + (size_t)a];
}

/* One coefficient g pi(a'|s') / n_p of M. */
typedef struct triplet {
  size_t row, col;
  double v;
} triplet;

/* Group the triplets by row (stable counting sort, so the order is the
 * order they were made in) and add up duplicates within a row; O(ntr + P).
 * Replaces *tr; returns 0 when out of memory. */
static int merge_triplets(size_t P, triplet **tr, size_t *ntr) {
  size_t n = *ntr;
  size_t *start = calloc(P + 1, sizeof *start);
  size_t *mark = malloc((P ? P : 1) * sizeof *mark);
  triplet *out = malloc((n ? n : 1) * sizeof *out);
  int ok = start && mark && out;
  if (ok) {
    for (size_t k = 0; k < n; k++) start[(*tr)[k].row + 1]++;
    for (size_t i = 0; i < P; i++) start[i + 1] += start[i];
    for (size_t k = 0; k < n; k++) out[start[(*tr)[k].row]++] = (*tr)[k];
    for (size_t i = 0; i < P; i++) mark[i] = SIZE_MAX;
    size_t m = 0, k = 0;
    for (size_t i = 0; i < P; i++) {
      size_t row_start = m;
      for (; k < start[i]; k++) { /* start[i] is now the end of row i */
        size_t c = out[k].col;
        if (mark[c] != SIZE_MAX && mark[c] >= row_start) {
          out[mark[c]].v += out[k].v;
        } else {
          mark[c] = m;
          out[m++] = out[k];
        }
      }
    }
    free(*tr);
    *tr = out;
    *ntr = m;
  } else {
    free(out);
  }
  free(start);
  free(mark);
  return ok;
}

/* Solve (I - M) x = b densely by LU with partial pivoting (M given as
 * triplets, already scaled by g). Returns 0 when the matrix is singular. */
static int solve_dense(size_t P, const triplet *tr, size_t ntr,
                       const double *b, double *x) {
  double *a = calloc(P * P, sizeof *a); /* (P, P) row-major */
  if (a == NULL) return -1;
  for (size_t i = 0; i < P; i++) a[i * P + i] = 1.0;
  for (size_t k = 0; k < ntr; k++) a[tr[k].row * P + tr[k].col] -= tr[k].v;
  memcpy(x, b, P * sizeof *x);
  int ok = 1;
  for (size_t c = 0; c < P && ok; c++) {
    size_t piv = c;
    for (size_t r = c + 1; r < P; r++)
      if (fabs(a[r * P + c]) > fabs(a[piv * P + c])) piv = r;
    if (a[piv * P + c] == 0.0) {
      ok = 0;
      break;
    }
    if (piv != c) {
      for (size_t j = 0; j < P; j++) {
        double tmp = a[c * P + j];
        a[c * P + j] = a[piv * P + j];
        a[piv * P + j] = tmp;
      }
      double tb = x[c];
      x[c] = x[piv];
      x[piv] = tb;
    }
    const double *rc = a + c * P;
    for (size_t r = c + 1; r < P; r++) {
      double *rr = a + r * P;
      double f = rr[c] / rc[c];
      if (f == 0.0) continue;
      rr[c] = 0.0;
      for (size_t j = c + 1; j < P; j++) rr[j] -= f * rc[j];
      x[r] -= f * x[c];
    }
  }
  for (size_t c = P; ok && c-- > 0;) {
    double s = x[c];
    for (size_t j = c + 1; j < P; j++) s -= a[c * P + j] * x[j];
    x[c] = s / a[c * P + c];
  }
  free(a);
  return ok;
}

/* Jacobi iteration x <- b + M x on merged triplets: the fallback.
 * Returns 1 when the change fell below 1e-14 relative. */
static int solve_jacobi(size_t P, const triplet *tr, size_t ntr,
                        const double *b, double *x) {
  double *y = malloc(P * sizeof *y);
  if (y == NULL) return -1;
  int ok = 0;
  for (int it = 0; it < 200000 && !ok; it++) {
    memcpy(y, b, P * sizeof *y);
    for (size_t k = 0; k < ntr; k++) y[tr[k].row] += tr[k].v * x[tr[k].col];
    double diff = 0.0, big = 1.0;
    for (size_t i = 0; i < P; i++) {
      diff = fmax(diff, fabs(y[i] - x[i]));
      big = fmax(big, fabs(y[i]));
    }
    memcpy(x, y, P * sizeof *x);
    ok = diff <= 1e-14 * big;
  }
  free(y);
  return ok;
}

/* GMRES (gsl_splinalg) on merged triplets grouped by row; x holds the
 * start.
 * Returns 1 when the relative residual reached 1e-13. */
static int solve_gmres(size_t P, const triplet *tr, size_t ntr,
                       const double *b, double *x) {
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  int ok = -1;
  gsl_spmatrix *coo = gsl_spmatrix_alloc_nzmax(P, P, ntr + P, GSL_SPMATRIX_COO);
  gsl_spmatrix *csr = NULL;
  gsl_splinalg_itersolve *w = NULL;
  if (coo == NULL) goto done;
  /* Diagonal first, then the off-diagonal coefficients (merged: no
   * duplicates; a diagonal coefficient is folded into the 1). */
  size_t k = 0;
  for (size_t i = 0; i < P; i++) {
    double diag = 1.0;
    for (; k < ntr && tr[k].row == i; k++) {
      if (tr[k].col == i) diag -= tr[k].v;
      else if (gsl_spmatrix_set(coo, i, tr[k].col, -tr[k].v) != GSL_SUCCESS)
        goto done;
    }
    if (gsl_spmatrix_set(coo, i, i, diag) != GSL_SUCCESS) goto done;
  }
  csr = gsl_spmatrix_compress(coo, GSL_SPMATRIX_CSR);
  w = gsl_splinalg_itersolve_alloc(gsl_splinalg_itersolve_gmres, P, 0);
  if (csr == NULL || w == NULL) goto done;
  gsl_vector_const_view bv = gsl_vector_const_view_array(b, P);
  gsl_vector_view xv = gsl_vector_view_array(x, P);
  ok = 0;
  for (int it = 0; it < 2000; it++) {
    int st = gsl_splinalg_itersolve_iterate(csr, &bv.vector, 1e-13, &xv.vector, w);
    if (st == GSL_SUCCESS) {
      ok = 1;
      break;
    }
    if (st != GSL_CONTINUE) break;
  }
done:
  gsl_splinalg_itersolve_free(w);
  if (csr) gsl_spmatrix_free(csr);
  if (coo) gsl_spmatrix_free(coo);
  gsl_set_error_handler(old);
  return ok;
}

/* With g = 1: whether every pair reaches a leaking pair along transitions of
 * positive probability (then I - M is nonsingular). Counts the pairs that
 * do not into *stuck. Returns -1 when out of memory. */
static int all_reach_leak(size_t P, const triplet *tr, size_t ntr,
                          const unsigned char *leak, size_t *stuck) {
  size_t *start = calloc(P + 1, sizeof *start);
  size_t *from = malloc((ntr ? ntr : 1) * sizeof *from);
  size_t *queue = malloc(P * sizeof *queue);
  unsigned char *seen = calloc(P, 1);
  int rc = -1;
  if (!start || !from || !queue || !seen) goto done;
  /* Reverse adjacency: the pairs p whose targets involve p'. */
  for (size_t k = 0; k < ntr; k++) start[tr[k].col + 1]++;
  for (size_t i = 0; i < P; i++) start[i + 1] += start[i];
  size_t *fill = queue; /* borrowed as a cursor before the search */
  for (size_t i = 0; i < P; i++) fill[i] = start[i];
  for (size_t k = 0; k < ntr; k++) from[fill[tr[k].col]++] = tr[k].row;
  size_t head = 0, tail = 0;
  for (size_t i = 0; i < P; i++)
    if (leak[i]) {
      seen[i] = 1;
      queue[tail++] = i;
    }
  while (head < tail) {
    size_t c = queue[head++];
    for (size_t k = start[c]; k < start[c + 1]; k++)
      if (!seen[from[k]]) {
        seen[from[k]] = 1;
        queue[tail++] = from[k];
      }
  }
  *stuck = P - tail;
  rc = tail == P;
done:
  free(start);
  free(from);
  free(queue);
  free(seen);
  return rc;
}

/* pi_e's distribution at next_obs after the whole logged episode ep, by
 * replaying the episode through the policy's history context. */
static ope_status replay_dist(const ope_policy *pi, const ope_dataset *ds,
                              size_t ep, const double *next_obs, double *probs,
                              ope_error *err) {
  void *ctx = NULL;
  ope_status st = OPE_OK;
  if (pi->ops->ctx_new && (st = pi->ops->ctx_new(pi, &ctx, err)) != OPE_OK)
    return st;
  for (size_t t = ds->ep_offset[ep]; t < ds->ep_offset[ep + 1]; t++) {
    double a = ds->action[t];
    if (pi->ops->observe)
      pi->ops->observe(pi, ctx, ds->obs + t * (size_t)ds->obs_dim, &a,
                       ds->reward[t]);
  }
  st = pi->ops->dist(pi, ctx, next_obs, probs, err);
  if (pi->ops->ctx_free) pi->ops->ctx_free(ctx);
  return st;
}

/* Everything the fit allocates besides the model. */
typedef struct fit_work {
  int64_t *sid;          /* (n_steps) state of each row */
  int64_t *pidx;         /* (S*A) pair number of each cell, or -1 */
  double *cnt, *b, *x;   /* (P) */
  unsigned char *leak;   /* (P) */
  triplet *tr;           /* distinct (row, col) coefficients, first-seen order */
  size_t ntr, cap_tr;
  size_t *eslot;         /* open addressing over tr: index + 1, or 0 */
  size_t emask;          /* slot count - 1 */
  double *extra;         /* (n_episodes, A) replayed end distributions */
} fit_work;

static void fit_work_clear(fit_work *w) {
  free(w->sid);
  free(w->pidx);
  free(w->cnt);
  free(w->b);
  free(w->x);
  free(w->leak);
  free(w->tr);
  free(w->eslot);
  free(w->extra);
}

static size_t edge_slot(size_t row, size_t col, size_t mask) {
  uint64_t h = ((uint64_t)row * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)col + 0x632BE59BD9B4E019ull);
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return (size_t)(h ^ (h >> 32)) & mask;
}

/* M[row][col] += v, keeping one coefficient per (row, col) so memory grows
 * with the distinct transitions, not with the rows. 0 when out of memory. */
static int add_coef(fit_work *w, size_t row, size_t col, double v) {
  if (2 * (w->ntr + 1) > w->emask + 1) { /* keep the load under 1/2 */
    size_t slots = w->emask ? 2 * (w->emask + 1) : 1024;
    size_t *es = calloc(slots, sizeof *es);
    triplet *t = realloc(w->tr, slots / 2 * sizeof *t);
    if (es == NULL || t == NULL) {
      free(es);
      if (t) w->tr = t;
      return 0;
    }
    w->tr = t;
    w->cap_tr = slots / 2;
    for (size_t k = 0; k < w->ntr; k++) {
      size_t j = edge_slot(t[k].row, t[k].col, slots - 1);
      while (es[j]) j = (j + 1) & (slots - 1);
      es[j] = k + 1;
    }
    free(w->eslot);
    w->eslot = es;
    w->emask = slots - 1;
  }
  size_t j = edge_slot(row, col, w->emask);
  for (; w->eslot[j]; j = (j + 1) & w->emask) {
    triplet *e = &w->tr[w->eslot[j] - 1];
    if (e->row == row && e->col == col) {
      e->v += v;
      return 1;
    }
  }
  w->tr[w->ntr] = (triplet){row, col, v};
  w->eslot[j] = ++w->ntr;
  return 1;
}

/* Whether row t of episode e gives a Bellman target: a terminal row (r
 * alone) or a row with a next state. */
static int has_target(const ope_dataset *ds, size_t e, size_t t) {
  return ds->terminal[t] || ope_dataset_next(ds, e, t, NULL);
}

/* The distribution pi_e(.|s') for row t's next state (sn), or NULL when
 * only a policy replay could give it and that failed. */
static const double *next_dist(const ope_dataset *ds,
                               const ope_policy_scores *sc, const fit_work *w,
                               const obs_index *ix, size_t ep, size_t t,
                               int64_t sn) {
  size_t A = (size_t)ds->n_actions;
  if (t + 1 < ds->ep_offset[ep + 1]) return sc->dist + (t + 1) * A;
  if (w->extra) return w->extra + ep * A;
  return sc->dist + ix->first_row[sn] * A;
}

static ope_status check_inputs(const ope_dataset *ds,
                               const ope_policy_scores *sc,
                               const ope_fqe_config *cfg, ope_error *err) {
  if (ds->action_kind != OPE_ACTION_DISCRETE)
    return ope_error_set(err, OPE_EUSAGE, "fqe tabular",
                         "tabular FQE needs discrete actions");
  if (sc == NULL || sc->dist == NULL || sc->n_steps != ds->n_steps)
    return ope_error_set(err, OPE_EUSAGE, "fqe tabular",
                         "FQE needs the evaluation policy's full action "
                         "distribution on every row (prob_* columns)");
  if (!(cfg->gamma >= 0.0 && cfg->gamma <= 1.0))
    return ope_error_set(err, OPE_EUSAGE, "fqe", "discount %g is outside [0, 1]",
                         cfg->gamma);
  return OPE_OK;
}

ope_status ope_fqe_tabular_fit(const ope_dataset *ds, const ope_policy *pi,
                               const ope_policy_scores *sc,
                               const ope_fqe_config *cfg,
                               ope_fqe_tabular **out, ope_error *err) {
  *out = NULL;
  ope_status st = check_inputs(ds, sc, cfg, err);
  if (st != OPE_OK) return st;
  const size_t A = (size_t)ds->n_actions, N = ds->n_steps, d = (size_t)ds->obs_dim;
  const double g = cfg->gamma;
  fit_work w = {0};
  ope_fqe_tabular *m = calloc(1, sizeof *m);
  if (m == NULL || !obs_index_init(&m->states, ds->obs_dim, N)) goto nomem;
  m->A = (int)A;
  m->defined = 1;

  /* States of the rows, then the logged pairs. */
  w.sid = malloc((N ? N : 1) * sizeof *w.sid);
  if (w.sid == NULL) goto nomem;
  for (size_t t = 0; t < N; t++)
    if ((w.sid[t] = obs_index_add(&m->states, ds->obs + t * d, t)) < 0) goto nomem;
  const size_t S = m->states.n;
  if (S > 0 && A > OPE_FQE_TABULAR_MAX_CELLS / S) {
    st = ope_error_set(err, OPE_EUSAGE, "fqe tabular",
                       "%zu states x %zu actions is too many cells for tabular "
                       "FQE; use --fqe linear or neural", S, A);
    goto fail;
  }
  const size_t cells = S * A > 0 ? S * A : 1;
  w.pidx = malloc(cells * sizeof *w.pidx);
  m->q = calloc(cells, sizeof *m->q);
  if (w.pidx == NULL || m->q == NULL) goto nomem;
  for (size_t c = 0; c < S * A; c++) w.pidx[c] = -1;
  /* Only rows with a target define pairs: the last row of a truncated
   * episode without next_obs gives none. */
  size_t P = 0;
  for (size_t e = 0; e < ds->n_episodes; e++)
    for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1]; t++) {
      size_t c = (size_t)w.sid[t] * A + (size_t)ds->action[t];
      if (has_target(ds, e, t) && w.pidx[c] < 0) w.pidx[c] = (int64_t)P++;
    }
  w.cnt = calloc(P ? P : 1, sizeof *w.cnt);
  w.b = calloc(P ? P : 1, sizeof *w.b);
  w.x = calloc(P ? P : 1, sizeof *w.x);
  w.leak = calloc(P ? P : 1, 1);
  if (!w.cnt || !w.b || !w.x || !w.leak) goto nomem;
  for (size_t e = 0; e < ds->n_episodes; e++)
    for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1]; t++)
      if (has_target(ds, e, t))
        w.cnt[w.pidx[(size_t)w.sid[t] * A + (size_t)ds->action[t]]] += 1.0;

  /* End-of-episode distributions from the policy itself, when the log has
   * next_obs and the policy can answer. */
  if (ds->next_obs && pi && pi->ops && pi->ops->dist &&
      pi->action_kind == OPE_ACTION_DISCRETE && pi->n_actions == (int)A) {
    w.extra = calloc(ds->n_episodes * A + 1, sizeof *w.extra);
    if (w.extra == NULL) goto nomem;
    for (size_t e = 0; e < ds->n_episodes; e++) {
      size_t last = ds->ep_offset[e + 1];
      if (last == ds->ep_offset[e] || ds->terminal[last - 1]) continue;
      st = replay_dist(pi, ds, e, ds->next_obs + (last - 1) * d, w.extra + e * A, err);
      if (st != OPE_OK) goto fail;
    }
  }

  /* b and M, row by row (Le et al. 2019, Alg. 3, with a table: the target
   * r + g (1 - terminal) V(s') averaged per pair). */
  for (size_t e = 0; e < ds->n_episodes; e++)
    for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1]; t++) {
      if (!has_target(ds, e, t)) continue;
      size_t p = (size_t)w.pidx[(size_t)w.sid[t] * A + (size_t)ds->action[t]];
      w.b[p] += ds->reward[t] / w.cnt[p];
      const double *nx = NULL;
      if (!ope_dataset_next(ds, e, t, &nx)) {
        w.leak[p] = 1; /* terminal: absorbing, no bootstrap */
        continue;
      }
      int64_t sn = obs_index_find(&m->states, nx);
      if (sn < 0) {
        w.leak[p] = 1; /* next state never logged: V(s') = 0 */
        continue;
      }
      const double *pd = next_dist(ds, sc, &w, &m->states, e, t, sn);
      for (size_t a = 0; a < A; a++) {
        if (pd[a] == 0.0) continue;
        int64_t q = w.pidx[(size_t)sn * A + a];
        if (q < 0) {
          w.leak[p] = 1;
          continue;
        }
        if (g != 0.0 && !add_coef(&w, p, (size_t)q, g * pd[a] / w.cnt[p]))
          goto nomem;
      }
    }

  /* Merge duplicate coefficients, rows in order (a fixed order makes every
   * path deterministic). */
  if (!merge_triplets(P, &w.tr, &w.ntr)) goto nomem;
  w.cap_tr = w.ntr;

  if (P == 0) goto finish; /* nothing logged with a target: Q = 0 */
  if (g >= 1.0) {
    size_t stuck = 0;
    int r = all_reach_leak(P, w.tr, w.ntr, w.leak, &stuck);
    if (r < 0) goto nomem;
    if (!r) {
      m->defined = 0;
      snprintf(m->why, sizeof m->why,
               "FQE is undefined: with discount 1, %zu logged state-action "
               "pairs never reach a terminal state (nor a pair outside the "
               "data), so Q has no fixed point", stuck);
      goto finish;
    }
  }
  int ok;
  if (P <= OPE_FQE_TABULAR_DENSE_MAX) {
    ok = solve_dense(P, w.tr, w.ntr, w.b, w.x);
  } else {
    ok = solve_gmres(P, w.tr, w.ntr, w.b, w.x);
    if (ok == 0) ok = solve_jacobi(P, w.tr, w.ntr, w.b, w.x);
  }
  if (ok < 0) goto nomem;
  if (!ok) {
    m->defined = 0;
    snprintf(m->why, sizeof m->why,
             "FQE is undefined: the tabular fixed-point system could not be "
             "solved (singular or not converging)");
    goto finish;
  }
  for (size_t c = 0; c < S * A; c++)
    if (w.pidx[c] >= 0) m->q[c] = w.x[w.pidx[c]];
finish:
  fit_work_clear(&w);
  *out = m;
  return OPE_OK;
nomem:
  st = ope_error_nomem(err);
fail:
  fit_work_clear(&w);
  ope_fqe_tabular_free(m);
  return st;
}

ope_status ope_fqe_tabular_predict(const ope_fqe_tabular *m,
                                   const ope_dataset *ds,
                                   const ope_policy_scores *sc,
                                   ope_qfit *out, ope_error *err) {
  memset(out, 0, sizeof *out);
  if (ds->action_kind != OPE_ACTION_DISCRETE || ds->n_actions != m->A ||
      ds->obs_dim != m->states.d)
    return ope_error_set(err, OPE_EUSAGE, "fqe tabular",
                         "dataset does not match the fitted table's sizes");
  if (sc == NULL || sc->dist == NULL || sc->n_steps != ds->n_steps)
    return ope_error_set(err, OPE_EUSAGE, "fqe tabular",
                         "FQE needs the evaluation policy's full action "
                         "distribution on every row (prob_* columns)");
  ope_status st = ope_qfit_alloc(out, ds->n_steps, err);
  if (st != OPE_OK) return st;
  if (!m->defined) {
    out->defined = 0;
    snprintf(out->warning, sizeof out->warning, "%s", m->why);
    return OPE_OK;
  }
  const size_t A = (size_t)m->A;
  for (size_t t = 0; t < ds->n_steps; t++) {
    int64_t s = obs_index_find(&m->states, ds->obs + t * (size_t)ds->obs_dim);
    if (s < 0) continue; /* an unseen state: Q = 0 */
    const double *qs = m->q + (size_t)s * A, *pd = sc->dist + t * A;
    double v = 0.0;
    for (size_t a = 0; a < A; a++) v += pd[a] * qs[a];
    out->q[t] = qs[ds->action[t]];
    out->v[t] = v;
  }
  ope_qfit_finish_value(out, ds);
  return OPE_OK;
}
