/* Turning a policy argument (`ope eval --policy P`) into an ope_policy.
 *
 * Order of lookup: a built-in simulator's reference policy
 * (`ENV:REGIME`, e.g. `chain:eps=0.3`, see src/sim/sim.h); then the store's
 * `policies` table by name (trained checkpoints). A name that is neither is
 * OPE_ENOINPUT with a message that says where it was looked for. */
#ifndef OPE_POLICY_RESOLVE_H
#define OPE_POLICY_RESOLVE_H

#include "core/error.h"
#include "policy/policy.h"
#include "store/store.h"

/* Resolve name into a new policy (*out, freed by the caller). store may be
 * NULL (only reference policies are found then). */
ope_status ope_policy_resolve(ope_store *store, const char *name,
                              ope_policy **out, ope_error *err);

#endif
