// The Params and bindings every matmul kernel shares (matmul.wgsl, matmul_tiled.wgsl,
// matmul_tiled_vec4.wgsl, matmul_subgroup.wgsl): included where a shader says
// `//#include matmul_params.wgsl` (src/ops/matmul.ts, before specialize()).

struct Params {
  M: u32, N: u32, K: u32, batch: u32,
  a_off: u32, a_bs: u32, a_rs: u32, a_cs: u32,   // A element (b, i, k) at a_off + a_item(b) + i·a_rs + k·a_cs
  b_off: u32, b_bs: u32, b_rs: u32, b_cs: u32,   // B element (b, k, j)
  c_bs: u32, alpha: f32, c_off: u32, tri_off: u32, // C is dense: (b, i, j) at c_off + b·c_bs + i·N + j;
                                                  // tri_off: the diagonal's offset of a triangular product (matmul_subgroup.wgsl TRI)
  b_inner: u32, a_bs2: u32, b_bs2: u32,           // a batch of two levels (attention heads of a [B, T, H, d] layout):
                                                  // item b = bo·b_inner + bi at bo·a_bs + bi·a_bs2 (b_inner 1: one level)
  bias_off: u32,                                  // where the bias row starts (matmul_subgroup.wgsl BIAS)
}

// Where batch item b of A and of B starts (before a_off, b_off).
fn a_item(b: u32) -> u32 { return (b / p.b_inner) * p.a_bs + (b % p.b_inner) * p.a_bs2; }
fn b_item(b: u32) -> u32 { return (b / p.b_inner) * p.b_bs + (b % p.b_inner) * p.b_bs2; }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
