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

// Row r as the vec4 entry points walk it (rows of a multiple of 4 columns): its first vec4 `base`,
// its live entries `n`, the vec4s wholly within them (`full`), the live lanes of vec4 `full` (`tail`,
// none when n % 4 = 0), and the vec4s holding live entries (`written`: full, + 1 with a tail).
struct LiveVec4s { base: u32, n: u32, full: u32, tail: vec4<bool>, has_tail: bool, written: u32 }

fn live_vec4s(r: u32) -> LiveVec4s {
  let n = row_live(r);
  let full = n / 4u;
  let tail = lanes_before(full, n);
  let has_tail = any(tail);
  return LiveVec4s(r * (p.len / 4u), n, full, tail, has_tail, full + select(0u, 1u, has_tail));
}
