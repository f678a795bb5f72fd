/* The inside of an ope_fqe_model, shared by the FQE kinds (not for callers
 * outside fqe/).
 *
 * A fitted model is a tag plus the kind's own object: tabular (a table of Q
 * over logged state-action pairs), linear (a weight vector) or neural (a
 * Q-network). Each kind's fit wraps its object with ope_fqe_model_wrap and
 * its predict reads it back from m->impl; ope_fqe_model_free calls the
 * kind's impl_free. */
#ifndef OPE_FQE_FQE_MODEL_H
#define OPE_FQE_FQE_MODEL_H

#include "fqe/fqe.h"

struct ope_fqe_model {
  ope_fqe_kind kind;             /* the kind fitted (never OPE_FQE_AUTO) */
  double gamma;                  /* discount the model was fitted with */
  void *impl;                    /* the kind's model, owned */
  void (*impl_free)(void *impl); /* frees impl; NULL-safe */
  char warning[256];             /* a caveat found while fitting, or empty */
};

/* Wrap a kind's fitted object into a new model (owning impl). On
 * out-of-memory impl is freed with impl_free, err is filled and NULL is
 * returned. */
ope_fqe_model *ope_fqe_model_wrap(ope_fqe_kind kind, double gamma, void *impl,
                                  void (*impl_free)(void *impl),
                                  ope_error *err);

#endif
