// Batched matmul C[b] = alpha · A[b]·B[b] (f32) for GPUs: a square tile of BM = 8·WG with vec4
// reads of workgroup memory. WG×WG invocations, each accumulating an 8×8 block of C as two 4-row by
// two 4-column quarters (rows 4·ty + r and BM/2 + 4·ty + r, columns likewise), so one k step reads
// 4 vec4s from workgroup memory for 64 FMAs (matmul_tiled.wgsl reads 16 floats for 32). Same Params
// and strided addressing as matmul.wgsl; edge tiles are zero-filled. ops/matmul.ts specialises WG
// (16: 128×128 tiles, 8: 64×64).

//#include matmul_params.wgsl

// These size workgroup arrays, so they are `const` (launch.ts `specialize()`).
const WG: u32 = 16u;   // invocations along each side
const BK: u32 = 8u;    // depth of one staged slab
const BM: u32 = 8u * WG;
const BN: u32 = BM;
const NT: u32 = WG * WG;
const HALF: u32 = BM / 2u;
const Q: u32 = BM / 4u; // vec4s per slab row

// As slab `k` holds rows 0..127 of the tile as 32 vec4s; Bs likewise columns.
var<workgroup> As: array<vec4<f32>, BK * BM / 4u>;
var<workgroup> Bs: array<vec4<f32>, BK * BN / 4u>;

override A_K_FAST: bool = true;
override B_N_FAST: bool = true;

@compute @workgroup_size(WG, WG, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wid.z;
  let tileRow = wid.y * BM;
  let tileCol = wid.x * BN;
  let t = lid.y * WG + lid.x;
  let abase = p.a_off + a_item(b);
  let bbase = p.b_off + b_item(b);
  var acc: array<vec4<f32>, 16>;  // acc[4·q + r]: quarter q (rows hi/lo × columns hi/lo), row r
  for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    for (var e = t; e < BK * BM; e += NT) {
      var i: u32; var k: u32;
      if (A_K_FAST) { i = e / BK; k = e % BK; } else { i = e % BM; k = e / BM; }
      let gi = tileRow + i;
      let gk = k0 + k;
      var v = 0.0;
      if (gi < p.M && gk < p.K) { v = A[abase + gi * p.a_rs + gk * p.a_cs]; }
      As[k * Q + i / 4u][i % 4u] = v;
    }
    for (var e = t; e < BK * BN; e += NT) {
      var j: u32; var k: u32;
      if (B_N_FAST) { j = e % BN; k = e / BN; } else { j = e / BK; k = e % BK; }
      let gj = tileCol + j;
      let gk = k0 + k;
      var v = 0.0;
      if (gj < p.N && gk < p.K) { v = B[bbase + gk * p.b_rs + gj * p.b_cs]; }
      Bs[k * Q + j / 4u][j % 4u] = v;
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      let a0 = As[k * Q + lid.y];
      let a1 = As[k * Q + WG + lid.y];
      let b0 = Bs[k * Q + lid.x];
      let b1 = Bs[k * Q + WG + lid.x];
      for (var r = 0u; r < 4u; r++) {
        acc[r] = fma(vec4<f32>(a0[r]), b0, acc[r]);
        acc[4u + r] = fma(vec4<f32>(a0[r]), b1, acc[4u + r]);
        acc[8u + r] = fma(vec4<f32>(a1[r]), b0, acc[8u + r]);
        acc[12u + r] = fma(vec4<f32>(a1[r]), b1, acc[12u + r]);
      }
    }
    workgroupBarrier();
  }

  let cbase = p.c_off + b * p.c_bs;
  for (var q = 0u; q < 4u; q++) {
    let rowBase = tileRow + (q / 2u) * HALF + lid.y * 4u;
    let colBase = tileCol + (q % 2u) * HALF + lid.x * 4u;
    for (var r = 0u; r < 4u; r++) {
      let row = rowBase + r;
      if (row >= p.M) { break; }
      let v = acc[4u * q + r];
      for (var c = 0u; c < 4u; c++) {
        if (colBase + c < p.N) { C[cbase + row * p.N + colBase + c] = p.alpha * v[c]; }
      }
    }
  }
}
