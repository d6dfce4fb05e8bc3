// Fused attention backward, key side: for each key row j of each head (B·H heads)
//   P_ij  = exp(scale · q_i·k_j − L_i)          (recomputed; L from the forward)
//   dV_j  = Σ_i P_ij · dO_i
//   dK_j  = scale · Σ_i P_ij · (dO_i·v_j − D_i) · q_i
// with D_i = dO_i·O_i from attention_dq.wgsl. Each invocation owns RK key rows (k, v and the dK, dV
// accumulators in registers) and loops over the queries that see them; every dK/dV element is
// written by exactly one invocation (deterministic, no atomics).

struct Params {
  heads: u32,       // B·H
  tq: u32,          // query rows per head
  tk: u32,          // keys per head
  blocks: u32,      // ceil(tk / RK): invocations per head
  causal_off: u32,  // causal: query i sees keys j ≤ i + causal_off (tk − tq)
  scale: f32,
  scale2: f32,      // scale · log2(e)
  l_off: u32,       // L's offset in its buffer (it follows O there: heads·tq·D)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;     // [heads, tq, D]
@group(0) @binding(2) var<storage, read> K: array<f32>;     // [heads, tk, D]
@group(0) @binding(3) var<storage, read> V: array<f32>;     // [heads, tk, D]
@group(0) @binding(4) var<storage, read> dO: array<f32>;    // [heads, tq, D]
@group(0) @binding(5) var<storage, read> L: array<f32>;     // [heads, tq] natural-log LSE at l_off
@group(0) @binding(6) var<storage, read> Dsum: array<f32>;  // [heads, tq]
@group(0) @binding(7) var<storage, read_write> dK: array<f32>;  // [heads, tk, D]
@group(0) @binding(8) var<storage, read_write> dV: array<f32>;  // [heads, tk, D]

const D: u32 = 64u;    // head dim (specialized)
const RK: u32 = 2u;    // key rows per invocation (specialized)
override WG: u32 = 64u;
override CAUSAL: u32 = 0u;

const LOG2E: f32 = 1.4426950408889634;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * WG;
  let h = id / p.blocks;
  if (h >= p.heads) { return; }
  let j0 = (id % p.blocks) * RK;
  let qbase = h * p.tq * D;
  let kvbase = h * p.tk * D;

  var k: array<array<f32, D>, RK>;
  var v: array<array<f32, D>, RK>;
  var dk: array<array<f32, D>, RK>;
  var dv: array<array<f32, D>, RK>;
  for (var r = 0u; r < RK; r++) {
    // Rows past tk repeat row tk−1 (in-bounds loads); their stores are skipped.
    let rb = kvbase + min(j0 + r, p.tk - 1u) * D;
    for (var c = 0u; c < D; c++) {
      k[r][c] = K[rb + c] * p.scale2;
      v[r][c] = V[rb + c];
      dk[r][c] = 0.0;
      dv[r][c] = 0.0;
    }
  }
  // Causal: query i sees key j iff i + causal_off ≥ j, so the first query that sees key j0 is j0 − off.
  let istart = select(0u, max(j0, p.causal_off) - p.causal_off, CAUSAL != 0u);

  for (var i = istart; i < p.tq; i++) {
    let qb = qbase + i * D;
    var s: array<f32, RK>;
    var dp: array<f32, RK>;
    for (var r = 0u; r < RK; r++) { s[r] = 0.0; dp[r] = 0.0; }
    for (var c = 0u; c < D; c++) {
      let qv = Q[qb + c];
      let gv = dO[qb + c];
      for (var r = 0u; r < RK; r++) { s[r] = fma(k[r][c], qv, s[r]); dp[r] = fma(v[r][c], gv, dp[r]); }
    }
    let lse2 = L[p.l_off + h * p.tq + i] * LOG2E;
    let delta = Dsum[h * p.tq + i];
    var pr: array<f32, RK>;
    var ds: array<f32, RK>;
    for (var r = 0u; r < RK; r++) {
      let masked = CAUSAL != 0u && j0 + r > i + p.causal_off;
      pr[r] = select(exp2(s[r] - lse2), 0.0, masked);
      ds[r] = pr[r] * (dp[r] - delta);
    }
    for (var c = 0u; c < D; c++) {
      let qv = Q[qb + c];
      let gv = dO[qb + c];
      for (var r = 0u; r < RK; r++) { dv[r][c] = fma(pr[r], gv, dv[r][c]); dk[r][c] = fma(ds[r], qv, dk[r][c]); }
    }
  }

  for (var r = 0u; r < RK; r++) {
    let j = j0 + r;
    if (j >= p.tk) { break; }
    let rb = kvbase + j * D;
    for (var c = 0u; c < D; c++) { dK[rb + c] = dk[r][c] * p.scale; dV[rb + c] = dv[r][c]; }
  }
}
