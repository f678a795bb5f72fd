/* Attention declarations for one element type; included by attention.h
 * with OPE_R and OPE_NN(name) defined. No guard: included once per type. */

/* out (B,T,C) = per head softmax(mask(q k^T / sqrt(hs))) v;
 * att (B,NH,T,T) receives the probabilities. qkv (B,T,3C); C % NH == 0. */
void OPE_NN(attention_forward)(OPE_R *out, OPE_R *att, const OPE_R *qkv,
                               int B, int T, int C, int NH);

/* Given dout (B,T,C): dqkv (B,T,3C) += d loss / d qkv. att and qkv are
 * those of the forward. scratch holds T*T values. */
void OPE_NN(attention_backward)(OPE_R *dqkv, OPE_R *scratch,
                                const OPE_R *dout, const OPE_R *qkv,
                                const OPE_R *att, int B, int T, int C,
                                int NH);

/* The same two passes by direct loops over every index, no GEMM: the
 * reference for tests. Same contracts (scratch unused). */
void OPE_NN(attention_naive_forward)(OPE_R *out, OPE_R *att,
                                     const OPE_R *qkv, int B, int T, int C,
                                     int NH);
void OPE_NN(attention_naive_backward)(OPE_R *dqkv, const OPE_R *dout,
                                      const OPE_R *qkv, const OPE_R *att,
                                      int B, int T, int C, int NH);
