// B's k rows as vec4s for matmul_subgroup.wgsl (B_VEC4): the same buffer as binding 2, read-only.
// Needs B's columns dense (b_cs = 1), b_off, b_bs and b_rs multiples of 4, and N one too or B's rows
// padded to one (ops/matmul.ts checks).
@group(0) @binding(4) var<storage, read> B4: array<vec4<f32>>;

// The lane's vec4 of k row k: bc4 is its vec4 index in row 0 of its batch item (x4, b: unused here).
fn b_vec4(bc4: u32, x4: u32, b: u32, k: u32) -> vec4<f32> {
  return B4[bc4 + k * (p.b_rs / 4u)];
}
