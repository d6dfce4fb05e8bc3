// Nearest-code search for CPU adapters with subgroups (lavapipe): the subgroup matmul's schedule
// (matmul_subgroup.wgsl) with an argmin in place of the store.
//   z: [N, D], E: [K, D], Et: [D + 1, K4] (E transposed, K4 = K rounded up to 4, zero columns past
//   K, then a row of the norms ‖e_k‖²; codebook_norms.wgsl `main_transposed`; binding 3, enorm, unused)
//   →  index: [N] (i32), dist: [N] = ‖z_n − e_index‖² (the bindings and the store:
//   codebook_search_io.wgsl).
// Why: llvmpipe loads every storage float lane by lane, so the time follows floats loaded per FMA.
// codebook.wgsl loads TM + TN = 24 floats per lane for 128 FMAs (every lane loading the same code);
// here a subgroup of S lanes shares TM vectors and each lane owns 4·CB of every 4·S·CB codes: per
// slab of S dimensions lane l loads z[row_i, d0 + l] for the TM rows, and dimension dd takes row i's
// value from lane dd by subgroupBroadcast; per dimension a lane loads TM/S floats and CB vec4s of Et
// (4 codes side by side each, as the matmul's B) for 4·CB·TM FMAs (codebook.ts SEARCH_SUBGROUP: TM
// 8, CB 1 from Et's buffer; TM 16, CB 2 where Et is a texture). The lane's z values of the first ZS
// slabs are loaded once and kept in a private array for every block of codes (a private array is
// llvmpipe's stack: one vector access for all lanes, where a storage load goes lane by lane; z's
// loads were ~27% of the time). Read from E's rows, the 4 codes were 4 loads D floats apart: on the
// AMD EPYC that made this schedule 0.6× the register kernel. The N×K distance matrix never exists.
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
const TM: u32 = 8u;   // vectors per subgroup (codebook.ts SEARCH_SUBGROUP)
const S: u32 = 8u;    // lanes per subgroup row = dimensions per slab
const CB: u32 = 1u;   // vec4s of codes per lane: a block of 4·S·CB codes per subgroup (codebook.ts)
const ZS: u32 = 0u;   // slabs of z a lane keeps in a private array across the code blocks (0: none)
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
  // The first ZS slabs of the TM rows, loaded once (slab s, row i at s·TM + i): every code block
  // then reads them from the lane's private array instead of storage.
  var zc: array<f32, max(TM * ZS, 1u)>;
  let cached = min(dFull / S, ZS);
  for (var s = 0u; s < cached; s++) {
    //#unroll I TM
    zc[s * TM + I] = z[zrow[I] + s * S + lane];
    //#end I
  }
  for (var k0 = 0u; k0 < p.K; k0 += 4u * S * CB) {
    let c0 = k0 + 4u * CB * lane;   // the lane's first code in this block
    var ecol: array<u32, CB>;   // its vec4s of codes; lanes past the last code re-read it (results discarded)
    //#unroll J CB
    ecol[J] = min(c0 / 4u + J, K4v - 1u);
    //#end J
    var acc: array<vec4<f32>, TM * CB>;   // row i, codes vec4 j at i·CB + j
    for (var i = 0u; i < TM * CB; i++) { acc[i] = vec4<f32>(0.0); }
    for (var d0 = 0u; d0 < dFull; d0 += S) {
      var zv: array<f32, TM>;
      let slab = d0 / S;
      if (slab < cached) {
        //#unroll I TM
        zv[I] = zc[slab * TM + I];
        //#end I
      } else {
        //#unroll I TM
        zv[I] = z[zrow[I] + d0 + lane];
        //#end I
      }
      // The slab's S·CB vec4s of Et first, then row by row its S dimensions: a row's accumulators
      // (on llvmpipe's stack, as the matmul's) are loaded and stored once per slab, not per dimension.
      var evs: array<vec4<f32>, S * CB>;   // dimension dd, codes vec4 j at j·S + dd
      //#unroll J CB
      //#unroll DD S
      evs[J * S + DD] = et_vec4(d0 + DD, K4v, ecol[J]);
      //#end DD
      //#end J
      //#unroll I TM
      {
        var bz: array<f32, S>;
        //#unroll DD S
        bz[DD] = subgroupBroadcast(zv[I], DD);
        //#end DD
        //#unroll J CB
        {
          var a = acc[I * CB + J];
          //#unroll DD S
          a = fma(vec4<f32>(bz[DD]), evs[J * S + DD], a);
          //#end DD
          acc[I * CB + J] = a;
        }
        //#end J
      }
      //#end I
    }
    for (var d = dFull; d < D; d++) {
      for (var j = 0u; j < CB; j++) {
        let ev = et_vec4(d, K4v, ecol[j]);
        for (var i = 0u; i < TM; i++) { acc[i * CB + j] = fma(vec4<f32>(z[zrow[i] + d]), ev, acc[i * CB + j]); }
      }
    }
    // Unrolled and branch-free (selects, no divergent `if` and `break`): codes past K never win; a
    // lane's codes in ascending order.
    //#unroll J CB
    {
      let en4 = et_vec4(D, K4v, ecol[J]);   // the 4 codes' norms (Et's row D: one vec4, not 4 per-lane loads)
      //#unroll C 4
      {
        let k = c0 + 4u * J + C;
        let real = k < p.K;
        //#unroll I TM
        {
          let s = fma(-2.0, acc[I * CB + J][C], en4[C]);
          let better = real && s < best[I];
          best[I] = select(best[I], s, better);
          besti[I] = select(besti[I], k, better);
        }
        //#end I
      }
      //#end C
    }
    //#end J
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
