// Et [D, K4] staged in an rgba32float texture (ops/matmul-b-texture.ts stageTexture: texel
// (ecol, d) holds codes 4·ecol .. 4·ecol + 3 at dimension d) for codebook_subgroup.wgsl.
@group(0) @binding(6) var ET: texture_2d_array<f32>;

fn et_vec4(d: u32, K4v: u32, ecol: u32) -> vec4<f32> {
  return textureLoad(ET, vec2<u32>(ecol, d), 0, 0);
}
