// The entries of row r that softmax.wgsl and softmax_grad.wgsl read (their Params): all of them,
// or for causal rows the keys up to the row's query's own, min(len, (row0 + r) % causal_tq + causal_off + 1).
fn row_live(r: u32) -> u32 {
  if (p.causal_tq == 0u) { return p.len; }
  return min(p.len, (p.row0 + r) % p.causal_tq + p.causal_off + 1u);
}

// Which entries of the vec4 at columns 4c … 4c + 3 lie before `n` (the vec4 entries' masks).
fn lanes_before(c: u32, n: u32) -> vec4<bool> {
  return vec4<u32>(4u * c) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n);
}
