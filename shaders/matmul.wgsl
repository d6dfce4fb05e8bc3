// Batched matmul C[b] = A[b] · B[b] (f32), A: M×K, B: K×N, read through arbitrary strides so that
// transposed views need no copy. Register-blocked: each invocation owns a TM×TN block of C and keeps
// it in registers; no shared memory and no barriers (on llvmpipe a workgroup's invocations are SIMD
// lanes of one CPU thread, where barriers are expensive; loads of A and B hit the CPU caches).

//#include matmul_params.wgsl

// Register-block sizes size private arrays, so they are `const` (override-sized arrays are only
// allowed in workgroup memory); launch.ts `specialize()` rewrites these two lines per variant.
// 8×8 with 8×8 invocations measured fastest on lavapipe (about 2× the 4×4 block at 512³).
const TM: u32 = 8u;
const TN: u32 = 8u;
override WGX: u32 = 8u;   // invocations along N
override WGY: u32 = 8u;   // invocations along M

@compute @workgroup_size(WGX, WGY, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.z;
  let row0 = gid.y * TM;
  let col0 = gid.x * TN;
  if (row0 >= p.M || col0 >= p.N) { return; }
  var acc: array<array<f32, TN>, TM>;
  for (var i = 0u; i < TM; i++) { for (var j = 0u; j < TN; j++) { acc[i][j] = 0.0; } }
  let abase = p.a_off + a_item(b);
  let bbase = p.b_off + b_item(b);
  // Clamp edge rows/columns to the last valid one: loads stay in bounds, results are discarded.
  var ar: array<u32, TM>;
  var bc: array<u32, TN>;
  for (var i = 0u; i < TM; i++) { ar[i] = abase + min(row0 + i, p.M - 1u) * p.a_rs; }
  for (var j = 0u; j < TN; j++) { bc[j] = bbase + min(col0 + j, p.N - 1u) * p.b_cs; }
  for (var k = 0u; k < p.K; k++) {
    var av: array<f32, TM>;
    var bv: array<f32, TN>;
    let ak = k * p.a_cs;
    let bk = k * p.b_rs;
    for (var i = 0u; i < TM; i++) { av[i] = A[ar[i] + ak]; }
    for (var j = 0u; j < TN; j++) { bv[j] = B[bc[j] + bk]; }
    for (var i = 0u; i < TM; i++) {
      for (var j = 0u; j < TN; j++) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); }
    }
  }
  let cbase = p.c_off + b * p.c_bs;
  for (var i = 0u; i < TM; i++) {
    let r = row0 + i;
    if (r >= p.M) { break; }
    for (var j = 0u; j < TN; j++) {
      let c = col0 + j;
      if (c < p.N) { C[cbase + r * p.N + c] = p.alpha * acc[i][j]; }
    }
  }
}
