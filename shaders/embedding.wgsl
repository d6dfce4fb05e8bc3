// Embedding lookup and its table gradient, on dense tensors:
//   gather:  dst[i, d] = src[idx[i], d]               idx [N] i32, src = table [V, D], dst [N, D]
//   scatter: dst[v, d] = Σ_{i: idx[i] = v} src[i, d]   src = g [N, D], dst = dtable [V, D]
// An index outside [0, V) reads a zero row and receives no gradient (never an out-of-bounds access).
// The scatter is deterministic without float atomics: every (v, d) is summed by one invocation in
// increasing i, so both schedules below give bit-identical results:
//   scatter_tiles:  a workgroup owns TV vocabulary rows × WG columns and scans all N indices once,
//                   accumulating in registers: cost (V/TV)·N index reads per column (good when N ≳ V/TV).
//   scatter_sparse: one invocation per (i, d) whose i is the first occurrence of its index sums the
//                   later occurrences: cost ≈ N² per column, for N ≪ V (dst zero-filled beforehand).

struct Params { n: u32, dim: u32, vocab: u32, col_groups: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

override WG: u32 = 64u;
const TV: u32 = 32u;   // vocabulary rows per workgroup of scatter_tiles

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= p.n * p.dim) { return; }
  let i = e / p.dim;
  let v = u32(idx[i]);   // a negative index wraps to a huge one: out of range
  dst[e] = select(0.0, src[min(v, p.vocab - 1u) * p.dim + (e - i * p.dim)], v < p.vocab);
}

@compute @workgroup_size(WG)
fn scatter_tiles(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = wid.x + wid.y * nwg.x;
  let v0 = (w / p.col_groups) * TV;
  let d = (w % p.col_groups) * WG + lid.x;
  if (v0 >= p.vocab || d >= p.dim) { return; }
  var acc: array<f32, TV>;   // zero-initialised
  for (var i = 0u; i < p.n; i++) {
    let t = u32(idx[i]) - v0;   // wraps to a huge value below the tile
    if (t < TV) { acc[t] += src[i * p.dim + d]; }
  }
  // Rows past V (indices in [V, v0 + TV)) were accumulated but are dropped here.
  let rows = min(TV, p.vocab - v0);
  for (var t = 0u; t < rows; t++) { dst[(v0 + t) * p.dim + d] = acc[t]; }
}

@compute @workgroup_size(WG)
fn scatter_sparse(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= p.n * p.dim) { return; }
  let i = e / p.dim;
  let d = e - i * p.dim;
  let v = idx[i];
  if (u32(v) >= p.vocab) { return; }
  for (var j = 0u; j < i; j++) {
    if (idx[j] == v) { return; }   // an earlier occurrence owns this row
  }
  var acc = 0.0;
  for (var j = i; j < p.n; j++) {
    if (idx[j] == v) { acc += src[j * p.dim + d]; }
  }
  dst[u32(v) * p.dim + d] = acc;
}
