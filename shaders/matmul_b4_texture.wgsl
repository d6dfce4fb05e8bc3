// B's k rows as vec4s for matmul_subgroup.wgsl (B_VEC4) from an rgba32float texture array that
// ops/matmul-b-texture.ts fills for the dispatch: texel (x4, k) of layer b holds columns
// 4·x4 .. 4·x4 + 3 of k row k of batch item b (0 past N); a single layer serves every item (a
// broadcast B). With A_TEX, A is staged the same way (binding 6).
//
// RO_TEX 1: the textures are bound as read-only storage textures, where the device has the WGSL
// language feature `readonly_and_readwrite_storage_textures` (ops/matmul-b-texture.ts
// storageTextureReads()); 0: as sampled textures. Same texels, same sums; on lavapipe a storage
// texture's load is inlined where a sampled texture's texel fetch calls a texture function through
// a table (about half of the kernel's time went there; AMD EPYC, side by side: 1024³ 24.0 → 34.0
// GFLOP/s).
const RO_TEX: u32 = 0u;
//#if RO_TEX
@group(0) @binding(4) var BT: texture_storage_2d_array<rgba32float, read>;
fn b_texel(x: u32, y: u32, layer: u32) -> vec4<f32> { return textureLoad(BT, vec2<u32>(x, y), layer); }
//#else RO_TEX
@group(0) @binding(4) var BT: texture_2d_array<f32>;
fn b_texel(x: u32, y: u32, layer: u32) -> vec4<f32> { return textureLoad(BT, vec2<u32>(x, y), layer, 0); }
//#endif RO_TEX
//#if A_TEX
//#if RO_TEX
@group(0) @binding(6) var AT: texture_storage_2d_array<rgba32float, read>;
fn a_texel(x: u32, y: u32, layer: u32) -> vec4<f32> { return textureLoad(AT, vec2<u32>(x, y), layer); }
//#else RO_TEX
@group(0) @binding(6) var AT: texture_2d_array<f32>;
fn a_texel(x: u32, y: u32, layer: u32) -> vec4<f32> { return textureLoad(AT, vec2<u32>(x, y), layer, 0); }
//#endif RO_TEX
//#endif A_TEX

// The lane's vec4 of k row k (bc4, its storage index: unused here).
fn b_vec4(bc4: u32, x4: u32, b: u32, k: u32) -> vec4<f32> {
  return b_texel(x4, k, min(b, textureNumLayers(BT) - 1u));
}
