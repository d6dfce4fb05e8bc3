// B's k rows as vec4s for matmul_subgroup.wgsl (B_VEC4) from an rgba32float texture array that
// ops/matmul-b-texture.ts fills for the dispatch: texel (x4, k) of layer b holds columns
// 4·x4 .. 4·x4 + 3 of k row k of batch item b (0 past N); a single layer serves every item (a
// broadcast B).
@group(0) @binding(4) var BT: texture_2d_array<f32>;

// The lane's vec4 of k row k (bc4, its storage index: unused here).
fn b_vec4(bc4: u32, x4: u32, b: u32, k: u32) -> vec4<f32> {
  return textureLoad(BT, vec2<u32>(x4, k), min(b, textureNumLayers(BT) - 1u), 0);
}
