// Per-code sums of the rows assigned to each code, deterministically (no atomics):
//   x: [N, D], index: [N] (i32, in [0, K))  →  counts: [K], sums: [K, D]
//   counts[k] = #{n : index[n] = k},  sums[k] = Σ_{n : index[n] = k} x[n]
// With x = z (and the index from the search) these are the statistics of an EMA codebook update.
//
// One invocation per code scans the whole index vector in ascending n and adds the matching rows
// in that order: every sum is a fixed sequence of f32 additions, so results are bit-reproducible
// run to run and across schedules (what resumable training needs), with no float atomics, no
// sort and no N×K or blocks×K×D scratch. (A stable counting sort by code would cut the scan to
// O(N) but needs per-block histograms and several passes; atomics for the sums would make the
// order, and so the rounding, vary between runs.) The price is K·N index comparisons, 1/D of the
// search's K·N·D multiply-adds; all invocations of a workgroup read the same index[n] together (a
// broadcast load), and each row of x is added once in total.

struct Params { N: u32, K: u32, D: u32, _p: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> counts: array<f32>;
@group(0) @binding(4) var<storage, read_write> sums: array<f32>;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  if (k >= p.K) { return; }
  let D = p.D;
  let row = k * D;
  // This invocation owns sums[k, :]: accumulate in place.
  for (var d = 0u; d < D; d++) { sums[row + d] = 0.0; }
  var count = 0u;
  for (var n = 0u; n < p.N; n++) {
    if (u32(index[n]) == k) {
      count++;
      for (var d = 0u; d < D; d++) { sums[row + d] += x[n * D + d]; }
    }
  }
  counts[k] = f32(count);
}
