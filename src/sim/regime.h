/* Behavior regimes and the reference policies built from them (private to
 * src/sim; the public face is sim.h).
 *
 * A regime is a mixture, drawn once per episode, of at most four component
 * policies. A component is the environment's reference controller mixed
 * with randomness: epsilon-greedy for discrete actions (probability
 * eps / A + (1 - eps) [a = controller's action]), a Gaussian of standard
 * deviation `noise` around the controller's action for continuous ones,
 * or uniform random (eps = 1; uniform on the action box). */
#ifndef OPE_SIM_REGIME_H
#define OPE_SIM_REGIME_H

#include "core/rng.h"
#include "policy/policy.h"
#include "sim/env.h"

#define SIM_MAX_COMPONENTS 4

typedef struct sim_component {
  int random;     /* uniform over actions / the action box */
  double knob;    /* eps (discrete) or noise std (continuous) */
} sim_component;

typedef struct sim_regime {
  int n;
  sim_component c[SIM_MAX_COMPONENTS];
  double w[SIM_MAX_COMPONENTS]; /* prior weights, sum 1 */
} sim_regime;

/* Parse a regime name for env. OPE_EUSAGE when malformed or not valid for
 * the environment's action kind. */
ope_status sim_regime_parse(const ope_env *env, const char *name,
                            sim_regime *out, ope_error *err);

/* Discrete: the component's distribution at obs into probs[A]. */
void sim_component_dist(const ope_env *env, const sim_component *c,
                        const double *obs, double *probs);
/* Continuous: sample an action; return its density. */
double sim_component_sample(const ope_env *env, const sim_component *c,
                            const double *mean, ope_rng *rng, double *a);
/* Continuous: density of action a given the controller's action mean. */
double sim_component_density(const ope_env *env, const sim_component *c,
                             const double *mean, const double *a);

/* The reference policy's parts, for dynamic programming. Returns NULL when
 * p is not a reference policy. */
typedef struct sim_refpolicy {
  ope_env *env;
  sim_regime regime;
} sim_refpolicy;
const sim_refpolicy *sim_refpolicy_of(const ope_policy *p);

#endif
