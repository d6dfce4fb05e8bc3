// Nearest-code search, shared-memory schedule (for GPUs).
//   z: [N, D], E: [K, D], enorm: [K] = ‖e_k‖²  →  index: [N] (i32), dist: [N] = ‖z_n − e_index‖²
// A workgroup of WGX×WGY invocations owns BM = WGY·TM vectors and sweeps the codebook in tiles of
// BN = WGX·TN codes, staging BK dimensions of both the vectors and the codes in workgroup memory
// per step (a matmul tile z·Eᵀ whose epilogue is an argmin instead of a store). Invocation (tx, ty)
// owns vectors ty + i·WGY and codes tx + j·WGX of every tile (strided, so a warp's shared-memory
// reads are broadcasts or consecutive words) and keeps a running minimum per vector over its
// codes. At the end the WGX partial minima of each vector are merged through workgroup memory.
// The N×K distance matrix never exists.
//
// Ties go to the lowest index: each invocation sees its codes in ascending order and keeps the
// first of equal scores; the merge compares (score, index) pairs. Every score is computed with the
// same operations in the same order (zero padding past D adds exact zeros), so identical codes
// tie exactly. The reported distance is recomputed as Σ(z − e)² for the chosen code.

//#include codebook_search_io.wgsl

// Tile sizes size arrays, so they are `const`; launch.ts `specialize()` rewrites them.
const TM: u32 = 4u;    // vectors per invocation
const TN: u32 = 4u;    // codes per invocation per tile
const WGX: u32 = 8u;   // invocations along codes
const WGY: u32 = 8u;   // invocations along vectors
const BK: u32 = 16u;   // dimensions per shared-memory step
const BM: u32 = WGY * TM;
const BN: u32 = WGX * TN;
const NT: u32 = WGX * WGY;
// Initial best score: the largest finite f32, which any real score beats (NaN scores never do:
// a vector with NaNs gets index 0).
const WORST: f32 = 0x1.fffffep+127f;

var<workgroup> zs: array<f32, BK * BM>;      // [BK][BM]: a slab of the workgroup's vectors
var<workgroup> es: array<f32, BK * BN>;      // [BK][BN]: a slab of the current code tile
var<workgroup> part_s: array<f32, BM * WGX>; // [BM][WGX]: per-invocation minima, merged at the end
var<workgroup> part_i: array<u32, BM * WGX>;

@compute @workgroup_size(WGX, WGY, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * WGX + tx;
  let v0 = (wid.x + wid.y * nwg.x) * BM;   // uniform per workgroup: no early return before barriers
  let D = p.D;
  var best: array<f32, TM>;
  var besti: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { best[i] = WORST; besti[i] = 0u; }

  for (var k0 = 0u; k0 < p.K; k0 += BN) {
    var acc: array<array<f32, TN>, TM>;
    for (var i = 0u; i < TM; i++) { for (var j = 0u; j < TN; j++) { acc[i][j] = 0.0; } }
    for (var d0 = 0u; d0 < D; d0 += BK) {
      // Cooperative loads, consecutive invocations on consecutive dimensions of a row; zeros pad
      // rows past N/K and dimensions past D.
      for (var e = tid; e < BK * BM; e += NT) {
        let m = e / BK;
        let d = d0 + e % BK;
        let v = v0 + m;
        var x = 0.0;
        if (v < p.N && d < D) { x = z[v * D + d]; }
        zs[(e % BK) * BM + m] = x;
      }
      for (var e = tid; e < BK * BN; e += NT) {
        let c = e / BK;
        let d = d0 + e % BK;
        let k = k0 + c;
        var x = 0.0;
        if (k < p.K && d < D) { x = E[k * D + d]; }
        es[(e % BK) * BN + c] = x;
      }
      workgroupBarrier();
      for (var dd = 0u; dd < BK; dd++) {
        var zv: array<f32, TM>;
        var ev: array<f32, TN>;
        for (var i = 0u; i < TM; i++) { zv[i] = zs[dd * BM + ty + i * WGY]; }
        for (var j = 0u; j < TN; j++) { ev[j] = es[dd * BN + tx + j * WGX]; }
        for (var i = 0u; i < TM; i++) {
          for (var j = 0u; j < TN; j++) { acc[i][j] = fma(zv[i], ev[j], acc[i][j]); }
        }
      }
      workgroupBarrier();
    }
    for (var j = 0u; j < TN; j++) {
      let k = k0 + tx + j * WGX;
      if (k < p.K) {
        let en = enorm[k];
        for (var i = 0u; i < TM; i++) {
          let s = fma(-2.0, acc[i][j], en);
          if (s < best[i]) { best[i] = s; besti[i] = k; }
        }
      }
    }
  }

  // Merge the WGX partial minima of each vector; invocation tid < BM finishes vector v0 + tid.
  for (var i = 0u; i < TM; i++) {
    let m = ty + i * WGY;
    part_s[m * WGX + tx] = best[i];
    part_i[m * WGX + tx] = besti[i];
  }
  workgroupBarrier();
  for (var m = tid; m < BM; m += NT) {
    let n = v0 + m;
    if (n >= p.N) { break; }
    var s = part_s[m * WGX];
    var bi = part_i[m * WGX];
    for (var x = 1u; x < WGX; x++) {
      let t = part_s[m * WGX + x];
      let ti = part_i[m * WGX + x];
      if (t < s || (t == s && ti < bi)) { s = t; bi = ti; }
    }
    store_nearest(n, bi);
  }
}
