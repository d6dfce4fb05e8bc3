// Fused attention backward, key side: for each key row j of each head (B·H heads)
//   P_ij = exp(scale · q_i·k_j − L_i)          (recomputed; L from the forward)
//   dV_j = Σ_i P_ij · dO_i
//   dK_j = scale · Σ_i P_ij · (dO_i·v_j − D_i) · q_i
// with D_i = dO_i·O_i from attention_dq.wgsl. Each invocation owns RK key rows and streams the
// queries that see them in blocks of BQ; every dK/dV element is written by exactly one invocation
// (deterministic, no atomics).
// Schedule as attention.wgsl, and for the same reason (on llvmpipe every memory access in a loop is a
// per-lane gather/scatter; registers are cheap): an RK×BQ register tile, and three passes over the
// head dim per query block, each keeping one tile of accumulators live (one pass with both score
// tiles spills on llvmpipe):
//   1. s = k·qᵀ                         (per vec4 step: BQ loads of q, RK of k)
//   2. dp = v·dOᵀ and dV += P·dO        (BQ of dO, RK of v, RK read-modify-writes of dV)
//   3. dK += scale · dS·q               (BQ of q, RK read-modify-writes of dK)
// Pass 2 reuses its dO loads for dV since P is final after pass 1. The dK, dV rows accumulate in
// dK, dV themselves. Split, the 4×4 tile runs ~1.4× faster than the old one-pass 2×4 (measured, see
// ops/attention.ts). The head dim is a uniform (rolled loops: short compiles); one head per
// workgroup row, a workgroup-uniform query loop, no barriers.

//#include attention_bwd_params.wgsl

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;    // [heads, tq, D/4]
@group(0) @binding(2) var<storage, read> K: array<vec4<f32>>;    // [heads, tk, D/4]
@group(0) @binding(3) var<storage, read> V: array<vec4<f32>>;    // [heads, tk, D/4]
@group(0) @binding(4) var<storage, read> dO: array<vec4<f32>>;   // [heads, tq, D/4]
@group(0) @binding(5) var<storage, read> L: array<f32>;          // [heads, tq] natural-log LSE at l_off
@group(0) @binding(6) var<storage, read> Dsum: array<f32>;       // [heads, tq]
@group(0) @binding(7) var<storage, read_write> dK: array<vec4<f32>>;  // [heads, tk, D/4]
@group(0) @binding(8) var<storage, read_write> dV: array<vec4<f32>>;  // [heads, tk, D/4]

// Register-tile sizes (specialized by ops/attention.ts).
const RK: u32 = 4u;    // key rows per invocation
const BQ: u32 = 8u;    // queries per block
override WG: u32 = 64u;
override CAUSAL: u32 = 0u;

const LOG2E: f32 = 1.4426950408889634;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = p.h0 + wid.y;
  let first = wid.x * WG * RK;     // the workgroup's first key row (uniform)
  let qbase = h * p.tq;            // first query row of the head (in rows)

  // Rows past tk read row tk−1 (in-bounds loads) and never write.
  var rb: array<u32, RK>;
  var valid: array<bool, RK>;
  var key: array<u32, RK>;
  for (var r = 0u; r < RK; r++) {
    let row = first + r * WG + lid.x;
    key[r] = min(row, p.tk - 1u);
    valid[r] = row < p.tk;
    rb[r] = (h * p.tk + key[r]) * p.d4;
    if (valid[r]) { for (var c = 0u; c < p.d4; c++) { dK[rb[r] + c] = vec4<f32>(0.0); dV[rb[r] + c] = vec4<f32>(0.0); } }
  }
  // Causal: query i sees key j iff i + causal_off ≥ j, so the first query that sees the
  // workgroup's first key is first − causal_off (the same start for the whole workgroup).
  let istart = select(0u, max(first, p.causal_off) - p.causal_off, CAUSAL != 0u);

  for (var i0 = istart; i0 < p.tq; i0 += BQ) {
    // Queries past tq read query tq−1 and are masked.
    var qi: array<u32, BQ>;
    var lse2: array<f32, BQ>;
    var delta: array<f32, BQ>;
    for (var ii = 0u; ii < BQ; ii++) {
      let i = min(i0 + ii, p.tq - 1u);
      qi[ii] = (qbase + i) * p.d4;
      lse2[ii] = L[p.l_off + qbase + i] * LOG2E;
      delta[ii] = Dsum[qbase + i];
    }

    // s = k·qᵀ for the RK×BQ tile, then s ← P (masked).
    var s: array<array<f32, BQ>, RK>;
    var dp: array<array<f32, BQ>, RK>;
    for (var r = 0u; r < RK; r++) { for (var ii = 0u; ii < BQ; ii++) { s[r][ii] = 0.0; dp[r][ii] = 0.0; } }
    for (var c = 0u; c < p.d4; c++) {
      var qv: array<vec4<f32>, BQ>;
      for (var ii = 0u; ii < BQ; ii++) { qv[ii] = Q[qi[ii] + c]; }
      for (var r = 0u; r < RK; r++) {
        let kv = K[rb[r] + c];
        for (var ii = 0u; ii < BQ; ii++) { s[r][ii] += dot(kv, qv[ii]); }
      }
    }
    for (var r = 0u; r < RK; r++) {
      for (var ii = 0u; ii < BQ; ii++) {
        let i = i0 + ii;
        let masked = i >= p.tq || (CAUSAL != 0u && key[r] > i + p.causal_off);
        s[r][ii] = select(exp2(s[r][ii] * p.scale2 - lse2[ii]), 0.0, masked);
      }
    }
    // dp = v·dOᵀ, and dV_r += Σ_ii P · dO_i from the same dO loads (P is final already).
    for (var c = 0u; c < p.d4; c++) {
      var gv: array<vec4<f32>, BQ>;
      for (var ii = 0u; ii < BQ; ii++) { gv[ii] = dO[qi[ii] + c]; }
      for (var r = 0u; r < RK; r++) {
        let vv = V[rb[r] + c];
        for (var ii = 0u; ii < BQ; ii++) { dp[r][ii] += dot(vv, gv[ii]); }
        if (valid[r]) {
          var a = dV[rb[r] + c];
          for (var ii = 0u; ii < BQ; ii++) { a = fma(vec4<f32>(s[r][ii]), gv[ii], a); }
          dV[rb[r] + c] = a;
        }
      }
    }
    // dp ← scale · dS = scale · P · (dp − D)
    for (var r = 0u; r < RK; r++) {
      for (var ii = 0u; ii < BQ; ii++) { dp[r][ii] = p.scale * s[r][ii] * (dp[r][ii] - delta[ii]); }
    }
    // dK_r += Σ_ii scale · dS · q_i
    for (var c = 0u; c < p.d4; c++) {
      var qv: array<vec4<f32>, BQ>;
      for (var ii = 0u; ii < BQ; ii++) { qv[ii] = Q[qi[ii] + c]; }
      for (var r = 0u; r < RK; r++) {
        if (valid[r]) {
          var b = dK[rb[r] + c];
          for (var ii = 0u; ii < BQ; ii++) { b = fma(vec4<f32>(dp[r][ii]), qv[ii], b); }
          dK[rb[r] + c] = b;
        }
      }
    }
  }
}
