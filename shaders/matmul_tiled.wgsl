// Batched matmul C[b] = alpha · A[b]·B[b] (f32) for GPUs: the workgroup stages BK-deep slabs of A
// (BM×BK) and B (BK×BN) in workgroup memory, then each invocation accumulates a TM×TN block of C
// in registers from them. Same Params and strided addressing as matmul.wgsl (transposed views need
// no copy); edge tiles are zero-filled, so any M, N, K works.
//
// Workgroup: WGX×WGY invocations → a BM = WGY·TM by BN = WGX·TN tile of C. ops/matmul.ts specialises
// three tiles (32×32 with 64 invocations, 64×64 with 128, 128×128 with 256) and picks by how many
// tiles the product has, so that small products still fill a large GPU. On CPU rasterisers (llvmpipe)
// the two barriers per slab cost more than the reuse gains: ops/matmul.ts picks matmul.wgsl there.

//#include matmul_params.wgsl

// These size private and workgroup arrays, so they are `const` (launch.ts `specialize()`); the
// values below are the 64×64 tile.
const TM: u32 = 8u;    // rows of C per invocation
const TN: u32 = 4u;    // columns of C per invocation
const WGX: u32 = 16u;  // invocations along N
const WGY: u32 = 8u;   // invocations along M
const BK: u32 = 16u;   // depth of one staged slab
const BM: u32 = WGY * TM;
const BN: u32 = WGX * TN;
const NT: u32 = WGX * WGY;

// Which index of a slab neighbouring invocations load: along k when A is row-major (a_cs = 1),
// along j when B is row-major (b_cs = 1), so that their global reads are contiguous.
override A_K_FAST: bool = true;
override B_N_FAST: bool = true;

var<workgroup> As: array<f32, BK * BM>;   // As[k·BM + i]
var<workgroup> Bs: array<f32, BK * BN>;   // Bs[k·BN + j]

@compute @workgroup_size(WGX, WGY, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wid.z;
  let tileRow = wid.y * BM;
  let tileCol = wid.x * BN;
  let t = lid.y * WGX + lid.x;
  let abase = p.a_off + a_item(b);
  let bbase = p.b_off + b_item(b);
  var acc: array<array<f32, TN>, TM>;
  for (var i = 0u; i < TM; i++) { for (var j = 0u; j < TN; j++) { acc[i][j] = 0.0; } }

  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // Stage A[tileRow.., k0..] and B[k0.., tileCol..], zero outside the matrices.
    for (var e = t; e < BK * BM; e += NT) {
      var i: u32; var k: u32;
      if (A_K_FAST) { i = e / BK; k = e % BK; } else { i = e % BM; k = e / BM; }
      let gi = tileRow + i;
      let gk = k0 + k;
      var v = 0.0;
      if (gi < p.M && gk < p.K) { v = A[abase + gi * p.a_rs + gk * p.a_cs]; }
      As[k * BM + i] = v;
    }
    for (var e = t; e < BK * BN; e += NT) {
      var j: u32; var k: u32;
      if (B_N_FAST) { j = e % BN; k = e / BN; } else { j = e / BK; k = e % BK; }
      let gj = tileCol + j;
      let gk = k0 + k;
      var v = 0.0;
      if (gj < p.N && gk < p.K) { v = B[bbase + gk * p.b_rs + gj * p.b_cs]; }
      Bs[k * BN + j] = v;
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      var av: array<f32, TM>;
      var bv: array<f32, TN>;
      // Rows lid.y + i·WGY and columns lid.x + j·WGX: neighbouring invocations read neighbouring words.
      for (var i = 0u; i < TM; i++) { av[i] = As[k * BM + lid.y + i * WGY]; }
      for (var j = 0u; j < TN; j++) { bv[j] = Bs[k * BN + lid.x + j * WGX]; }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }

  let cbase = p.c_off + b * p.c_bs;
  for (var i = 0u; i < TM; i++) {
    let r = tileRow + lid.y + i * WGY;
    if (r >= p.M) { break; }
    for (var j = 0u; j < TN; j++) {
      let c = tileCol + lid.x + j * WGX;
      if (c < p.N) { C[cbase + r * p.N + c] = p.alpha * acc[i][j]; }
    }
  }
}
