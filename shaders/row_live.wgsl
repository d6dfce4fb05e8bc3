// The entries of row r that softmax.wgsl and softmax_grad.wgsl read (their Params): all of them,
// or for causal rows the keys up to the row's query's own, min(len, (row0 + r) % causal_tq + causal_off + 1).
fn row_live(r: u32) -> u32 {
  if (p.causal_tq == 0u) { return p.len; }
  return min(p.len, (p.row0 + r) % p.causal_tq + p.causal_off + 1u);
}
