// Et [D, K4] staged in an rgba32float texture (ops/matmul-b-texture.ts stageTexture: texel
// (ecol, d) holds codes 4·ecol .. 4·ecol + 3 at dimension d) for codebook_subgroup.wgsl; bound as a
// read-only storage texture where the device allows (RO_TEX, as matmul_b4_texture.wgsl), else sampled.
const RO_TEX: u32 = 0u;
//#if RO_TEX
@group(0) @binding(6) var ET: texture_storage_2d_array<rgba32float, read>;
//#else RO_TEX
@group(0) @binding(6) var ET: texture_2d_array<f32>;
//#endif RO_TEX

fn et_vec4(d: u32, K4v: u32, ecol: u32) -> vec4<f32> {
//#if RO_TEX
  return textureLoad(ET, vec2<u32>(ecol, d), 0);
//#else RO_TEX
  return textureLoad(ET, vec2<u32>(ecol, d), 0, 0);
//#endif RO_TEX
}
