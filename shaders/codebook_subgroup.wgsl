// Nearest-code search for CPU adapters with subgroups (lavapipe): the subgroup matmul's schedule
// (matmul_subgroup.wgsl) with an argmin in place of the store.
//   z: [N, D], E: [K, D], Et: [D + 1, K4] (E transposed, K4 = K rounded up to 4, zero columns past
//   K, then a row of the norms ‖e_k‖²; codebook_norms.wgsl `main_transposed`; binding 3, enorm, unused)
//   →  index: [N] (i32), dist: [N] = ‖z_n − e_index‖² (the bindings and the store:
//   codebook_search_io.wgsl).
// Why: llvmpipe loads every storage float lane by lane, so the time follows floats loaded per FMA.
// codebook.wgsl loads TM + TN = 24 floats per lane for 128 FMAs (every lane loading the same code);
// here a subgroup of S lanes shares TM vectors and each lane owns 4 of every 4·S codes: per slab of S
// dimensions lane l loads z[row_i, d0 + l] for the TM rows, and dimension dd takes row i's value
// from lane dd by subgroupBroadcast; per dimension a lane loads TM/S floats and one vec4 of Et (its
// 4 codes side by side, as the matmul's B) for 4·TM FMAs (TM 8; 16 where Et is a texture). Read from E's rows, the 4 codes were 4
// loads D floats apart: on the AMD EPYC that made this schedule 0.6× the register kernel. The N×K
// distance matrix never exists.
//
// Bit for bit the register kernel's answer: each dot product sums over d in ascending order by fma,
// the score is fma(-2, z·e, ‖e‖²), a lane visits its codes in ascending order and keeps only a
// strictly smaller score, and the subgroup takes the smallest score, then the lowest index among the
// lanes that hold it (ties to the lowest index; all-NaN scores leave index 0). Lane i % S stores
// row i (codebook_search_io.wgsl, the distance recomputed as every schedule does).

enable subgroups;

//#include codebook_search_io.wgsl

// Et's vec4 of dimension d, `et_vec4()`, from binding 6: the buffer (codebook_et_buffer.wgsl) or
// Et staged in a texture (codebook_et_texture.wgsl), which llvmpipe fetches for all lanes at once
// (ops/matmul-b-texture.ts: the subgroup matmul's B likewise).
//#include codebook_et.wgsl

// Template constants (launch.ts `specialize()`: they size the unrolled blocks).
const TM: u32 = 8u;   // vectors per subgroup (codebook.ts SEARCH_SUBGROUP_ROWS)
const S: u32 = 8u;    // lanes per subgroup row = dimensions per slab
override WGY: u32 = 1u;  // subgroups per workgroup (only where every subgroup has S lanes)
const WORST: f32 = 0x1.fffffep+127f;  // the initial best score: any real score beats it

@compute @workgroup_size(S, WGY, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let row0 = ((wid.x + wid.y * nwg.x) * WGY + lid.y) * TM;
  let D = p.D;
  // Rows past N repeat the last one (results discarded), so every lane takes part in the shuffles
  // (no early return: subgroup operations need control flow that the uniformity analysis can prove
  // uniform, and row0 depends on the local invocation).
  var zrow: array<u32, TM>;
  var best: array<f32, TM>;
  var besti: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    zrow[i] = min(row0 + i, p.N - 1u) * D;
    best[i] = WORST;
    besti[i] = 0u;
  }
  let dFull = D - D % S;
  let K4v = (p.K + 3u) / 4u;   // vec4s per row of Et
  for (var k0 = 0u; k0 < p.K; k0 += 4u * S) {
    let c0 = k0 + 4u * lane;   // the lane's first code in this block
    let ecol = min(c0 / 4u, K4v - 1u);   // lanes past the last code re-read it (results discarded)
    var acc: array<vec4<f32>, TM>;
    for (var i = 0u; i < TM; i++) { acc[i] = vec4<f32>(0.0); }
    for (var d0 = 0u; d0 < dFull; d0 += S) {
      var zv: array<f32, TM>;
      //#unroll I TM
      zv[I] = z[zrow[I] + d0 + lane];
      //#end I
      // The slab's S vec4s of Et first, then row by row its S dimensions: a row's accumulator (on
      // llvmpipe's stack, as the matmul's) is loaded and stored once per slab, not per dimension.
      var evs: array<vec4<f32>, S>;
      //#unroll DD S
      evs[DD] = et_vec4(d0 + DD, K4v, ecol);
      //#end DD
      //#unroll I TM
      {
        var a = acc[I];
        //#unroll DD S
        a = fma(vec4<f32>(subgroupBroadcast(zv[I], DD)), evs[DD], a);
        //#end DD
        acc[I] = a;
      }
      //#end I
    }
    for (var d = dFull; d < D; d++) {
      let ev = et_vec4(d, K4v, ecol);
      for (var i = 0u; i < TM; i++) { acc[i] = fma(vec4<f32>(z[zrow[i] + d]), ev, acc[i]); }
    }
    let en4 = et_vec4(D, K4v, ecol);   // the 4 codes' norms (Et's row D: one vec4, not 4 per-lane loads)
    for (var c = 0u; c < 4u; c++) {
      let k = c0 + c;
      if (k >= p.K) { break; }
      let en = en4[c];
      for (var i = 0u; i < TM; i++) {
        let s = fma(-2.0, acc[i][c], en);
        if (s < best[i]) { best[i] = s; besti[i] = k; }
      }
    }
  }
  // The subgroup's answer per row: the smallest score, then the lowest index holding it.
  var found: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let m = subgroupMin(best[i]);
    found[i] = subgroupMin(select(0xffffffffu, besti[i], best[i] == m));
    if (found[i] == 0xffffffffu) { found[i] = 0u; }   // NaN scores compare unequal to everything
  }
  for (var i = lane; i < TM; i += S) {
    let n = row0 + i;
    if (n >= p.N) { break; }
    store_nearest(n, found[i]);
  }
}
