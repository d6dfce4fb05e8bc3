// The Params, bindings and result store every nearest-code search shares (codebook.wgsl,
// codebook_tiled.wgsl, codebook_subgroup.wgsl): included where a shader says
// `//#include codebook_search_io.wgsl` (src/ops/codebook.ts, before specialize()).
//   z: [N, D], E: [K, D], enorm: [K] = ‖e_k‖²  →  out_index: [N] (i32), out_dist: [N]

struct Params { N: u32, K: u32, D: u32, _p: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> E: array<f32>;
@group(0) @binding(3) var<storage, read> enorm: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_index: array<i32>;
@group(0) @binding(5) var<storage, read_write> out_dist: array<f32>;

// Stores vector n's nearest code and its distance, recomputed as Σ(z − e)² in ascending d (free of
// the expansion's cancellation, and the same bits whichever schedule found the code).
fn store_nearest(n: u32, code: u32) {
  let D = p.D;
  var s = 0.0;
  for (var d = 0u; d < D; d++) {
    let t = z[n * D + d] - E[code * D + d];
    s = fma(t, t, s);
  }
  out_index[n] = i32(code);
  out_dist[n] = s;
}
