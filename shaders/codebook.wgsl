// Nearest-code search, register-blocked schedule (for CPU rasterisers such as lavapipe).
//   z: [N, D], E: [K, D], enorm: [K] = ‖e_k‖²  →  index: [N] (i32), dist: [N] = ‖z_n − e_index‖²
// Each invocation owns TM vectors and streams the whole codebook, TN codes at a time: a TM×TN
// block of dot products z·e lives in registers, then the scores ‖e‖² − 2 z·e (‖z‖² is the same for
// every code, so it drops out of the argmin) update the TM running minima. No shared memory and no
// barriers: on llvmpipe a workgroup's invocations are SIMD lanes of one CPU thread, every lane
// reads the same code at the same time (a broadcast load), and the codebook stays in the CPU cache.
// The N×K distance matrix never exists.
//
// Ties go to the lowest index: codes are visited in ascending order and only a strictly smaller
// score replaces the best. Identical codes get bit-identical scores (same operations, same order).
// The reported distance is recomputed as Σ(z − e)² for the chosen code, free of the expansion's
// cancellation.

//#include codebook_search_io.wgsl

// Block sizes size private arrays, so they are `const`; launch.ts `specialize()` rewrites them.
const TM: u32 = 8u;    // vectors per invocation
const TN: u32 = 16u;   // codes per register block
override WG: u32 = 64u;
// Initial best score: the largest finite f32, which any real score beats (NaN scores never do:
// a vector with NaNs gets index 0).
const WORST: f32 = 0x1.fffffep+127f;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let v0 = (gid.x + gid.y * nwg.x * WG) * TM;
  if (v0 >= p.N) { return; }
  let D = p.D;
  // Row offsets of this invocation's vectors; rows past N repeat the last one (results discarded).
  var zrow: array<u32, TM>;
  var best: array<f32, TM>;
  var besti: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    zrow[i] = min(v0 + i, p.N - 1u) * D;
    best[i] = WORST;
    besti[i] = 0u;
  }
  for (var k0 = 0u; k0 < p.K; k0 += TN) {
    var erow: array<u32, TN>;
    for (var j = 0u; j < TN; j++) { erow[j] = min(k0 + j, p.K - 1u) * D; }
    var acc: array<array<f32, TN>, TM>;
    for (var i = 0u; i < TM; i++) { for (var j = 0u; j < TN; j++) { acc[i][j] = 0.0; } }
    for (var d = 0u; d < D; d++) {
      var zv: array<f32, TM>;
      var ev: array<f32, TN>;
      for (var i = 0u; i < TM; i++) { zv[i] = z[zrow[i] + d]; }
      for (var j = 0u; j < TN; j++) { ev[j] = E[erow[j] + d]; }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) { acc[i][j] = fma(zv[i], ev[j], acc[i][j]); }
      }
    }
    for (var j = 0u; j < TN; j++) {
      let k = k0 + j;
      if (k >= p.K) { break; }
      let en = enorm[k];
      for (var i = 0u; i < TM; i++) {
        let s = fma(-2.0, acc[i][j], en);
        if (s < best[i]) { best[i] = s; besti[i] = k; }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let n = v0 + i;
    if (n >= p.N) { break; }
    store_nearest(n, besti[i]);
  }
}
