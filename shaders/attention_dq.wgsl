// Fused attention backward, query side: for each query row i of each head (B·H heads)
//   D_i   = dO_i · O_i                                   (rowsum(dO ⊙ O); also written for the key pass)
//   P_ij  = exp(scale · q_i·k_j − L_i)                   (recomputed from Q, K and the forward's L)
//   dS_ij = P_ij · (dO_i·v_j − D_i)
//   dQ_i  = scale · Σ_j dS_ij · k_j
// Each invocation owns RQ query rows and streams the keys in blocks of BK; every dQ element is
// written by exactly one invocation (deterministic, no atomics). attention_dkv.wgsl then makes the
// key-side pass (dK, dV) reading the D written here.
// Schedule as attention.wgsl, and for the same reason (on llvmpipe every memory access in a loop is a
// per-lane gather/scatter; registers are cheap): RQ×BK tiles of scores and of dO·vᵀ in registers,
// each accumulated in its own pass over the head dim (per vec4 step: RQ loads of q or dO, BK of k
// or v, RQ·BK dot products). Two passes rather than one: a single pass keeps both tiles and twice
// the operands live, which spills on llvmpipe; split, the 4×4 tile runs 1.25–1.5× faster than the
// one-pass 2×4 (measured, see ops/attention.ts). The dQ rows accumulate in dQ itself,
// read-modified-written once per key block. The head dim is a uniform (loops over it stay rolled:
// short compiles); one head per workgroup row, workgroup-uniform key loop, no barriers.

//#include attention_bwd_params.wgsl

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;    // [heads, tq, D/4]
@group(0) @binding(2) var<storage, read> K: array<vec4<f32>>;    // [heads, tk, D/4]
@group(0) @binding(3) var<storage, read> V: array<vec4<f32>>;    // [heads, tk, D/4]
@group(0) @binding(4) var<storage, read> O: array<vec4<f32>>;    // [heads, tq, D/4]
@group(0) @binding(5) var<storage, read> dO: array<vec4<f32>>;   // [heads, tq, D/4]
@group(0) @binding(6) var<storage, read> L: array<f32>;          // [heads, tq] natural-log LSE at l_off
@group(0) @binding(7) var<storage, read_write> Dsum: array<f32>;       // [heads, tq]
@group(0) @binding(8) var<storage, read_write> dQ: array<vec4<f32>>;   // [heads, tq, D/4]

// Register-tile sizes (specialized by ops/attention.ts).
const RQ: u32 = 4u;    // query rows per invocation
const BK: u32 = 8u;    // keys per block
override WG: u32 = 64u;
override CAUSAL: u32 = 0u;

const LOG2E: f32 = 1.4426950408889634;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = p.h0 + wid.y;
  let first = wid.x * WG * RQ;
  let kvbase = h * p.tk * p.d4;

  // Rows past tq read row tq−1 (in-bounds loads) and never write.
  var rb: array<u32, RQ>;
  var valid: array<bool, RQ>;
  var last: array<u32, RQ>;
  var lse2: array<f32, RQ>;    // L in base 2
  var delta: array<f32, RQ>;
  for (var r = 0u; r < RQ; r++) {
    let row = first + r * WG + lid.x;
    let i = min(row, p.tq - 1u);
    valid[r] = row < p.tq;
    rb[r] = (h * p.tq + i) * p.d4;
    last[r] = select(p.tk - 1u, min(i + p.causal_off, p.tk - 1u), CAUSAL != 0u);
    lse2[r] = L[p.l_off + h * p.tq + i] * LOG2E;
    var dsum = 0.0;
    for (var c = 0u; c < p.d4; c++) {
      dsum += dot(dO[rb[r] + c], O[rb[r] + c]);
      if (valid[r]) { dQ[rb[r] + c] = vec4<f32>(0.0); }
    }
    delta[r] = dsum;
    if (valid[r]) { Dsum[h * p.tq + i] = dsum; }
  }
  let last_row = min(first + WG * RQ, p.tq) - 1u;
  let kend = select(p.tk, min(last_row + p.causal_off + 1u, p.tk), CAUSAL != 0u);

  for (var j0 = 0u; j0 < kend; j0 += BK) {
    var kb: array<u32, BK>;   // keys past kend read key kend−1 and are masked
    for (var jj = 0u; jj < BK; jj++) { kb[jj] = kvbase + min(j0 + jj, kend - 1u) * p.d4; }

    // s = q·kᵀ, then dp = dO·vᵀ, for the RQ×BK tile: two passes over the head dim, so that each
    // keeps one tile of accumulators live (one pass with both tiles spilled on llvmpipe).
    var s: array<array<f32, BK>, RQ>;
    var dp: array<array<f32, BK>, RQ>;
    for (var r = 0u; r < RQ; r++) { for (var jj = 0u; jj < BK; jj++) { s[r][jj] = 0.0; dp[r][jj] = 0.0; } }
    for (var c = 0u; c < p.d4; c++) {
      var kv: array<vec4<f32>, BK>;
      for (var jj = 0u; jj < BK; jj++) { kv[jj] = K[kb[jj] + c]; }
      for (var r = 0u; r < RQ; r++) {
        let qv = Q[rb[r] + c];
        for (var jj = 0u; jj < BK; jj++) { s[r][jj] += dot(qv, kv[jj]); }
      }
    }
    for (var c = 0u; c < p.d4; c++) {
      var vv: array<vec4<f32>, BK>;
      for (var jj = 0u; jj < BK; jj++) { vv[jj] = V[kb[jj] + c]; }
      for (var r = 0u; r < RQ; r++) {
        let gv = dO[rb[r] + c];
        for (var jj = 0u; jj < BK; jj++) { dp[r][jj] += dot(gv, vv[jj]); }
      }
    }
    // s ← scale · dS = scale · P · (dp − D)
    for (var r = 0u; r < RQ; r++) {
      for (var jj = 0u; jj < BK; jj++) {
        let pr = select(exp2(s[r][jj] * p.scale2 - lse2[r]), 0.0, j0 + jj > last[r]);
        s[r][jj] = p.scale * pr * (dp[r][jj] - delta[r]);
      }
    }
    // dQ_r += Σ_jj s[r][jj] · k_{j0+jj}
    for (var c = 0u; c < p.d4; c++) {
      var kv: array<vec4<f32>, BK>;
      for (var jj = 0u; jj < BK; jj++) { kv[jj] = K[kb[jj] + c]; }
      for (var r = 0u; r < RQ; r++) {
        if (valid[r]) {
          var a = dQ[rb[r] + c];
          for (var jj = 0u; jj < BK; jj++) { a = fma(vec4<f32>(s[r][jj]), kv[jj], a); }
          dQ[rb[r] + c] = a;
        }
      }
    }
  }
}
