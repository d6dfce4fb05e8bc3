// The Params of the two-pass attention backward (attention_dq.wgsl, the query pass, and
// attention_dkv.wgsl, the key pass): included where a shader says
// `//#include attention_bwd_params.wgsl` (src/ops/attention.ts).

struct Params {
  h0: u32,          // first head of this dispatch
  tq: u32,          // query rows per head
  tk: u32,          // keys per head
  causal_off: u32,  // causal: query i sees keys j ≤ i + causal_off (tk − tq)
  scale: f32,       // softmax scale (dQ = scale · dS·K, dK = scale · dSᵀ·Q)
  scale2: f32,      // scale · log2(e)
  l_off: u32,       // L's offset in its buffer, in floats (it follows O there: heads·tq·D)
  d4: u32,          // head dim / 4
}
