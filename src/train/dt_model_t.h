/* Decision Transformer passes for one element type; included by
 * dt_model.h with OPE_R and OPE_DT(name) defined. No guard. */

/* Activations of one forward pass of up to max_batch windows of up to
 * `context` steps, kept for the backward. */
typedef struct OPE_DT(ws) OPE_DT(ws);

/* OPE_EUSAGE for max_batch outside 1 .. 65536; OPE_EINTERNAL when out of
 * memory. */
ope_status OPE_DT(ws_new)(const ope_dt_layout *L, int max_batch,
                          OPE_DT(ws) **out, ope_error *err);
void OPE_DT(ws_free)(OPE_DT(ws) *ws); /* NULL is a no-op */

/* Forward B <= max_batch windows of K <= context steps:
 *   rtg (B,K) returns-to-go (already scaled), obs (B,K,d) (normalized),
 *   act (B,K,act_in), tstep (B,K) timesteps in 0 .. max_ep_len-1.
 * With rng non-NULL and dropout > 0, dropout (Srivastava et al. 2014) with
 * rate `dropout` is applied to the embeddings and to each residual branch;
 * the masks are drawn from rng. Returns y (B,K,out), the head's output at
 * every state token, owned by ws. The inputs must stay valid and unchanged
 * until the backward. */
const OPE_R *OPE_DT(forward)(const ope_dt_layout *L, const OPE_R *params,
                             OPE_DT(ws) *ws, const OPE_R *rtg,
                             const OPE_R *obs, const OPE_R *act,
                             const int32_t *tstep, int B, int K,
                             double dropout, ope_rng *rng);

/* Backward of the last forward through ws: given dy (B,K,out), ADD the
 * parameter gradients into grads (n_params, the layout of params). */
void OPE_DT(backward)(const ope_dt_layout *L, const OPE_R *params,
                      OPE_R *grads, OPE_DT(ws) *ws, const OPE_R *dy);

