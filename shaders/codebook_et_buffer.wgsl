// Et [D, K4] (the codebook transposed, codebook_norms.wgsl `main_transposed`) as vec4s for
// codebook_subgroup.wgsl: a lane's 4 codes at dimension d are one vec4 load.
@group(0) @binding(6) var<storage, read> Et: array<vec4<f32>>;

fn et_vec4(d: u32, K4v: u32, ecol: u32) -> vec4<f32> {
  return Et[d * K4v + ecol];
}
