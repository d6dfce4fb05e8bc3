// Fused attention backward, query side: for each query row i of each head (B·H heads)
//   D_i  = dO_i · O_i                                    (rowsum(dO ⊙ O), also written for the key pass)
//   P_ij = exp(scale · q_i·k_j − L_i)                    (recomputed from Q, K and the forward's L)
//   dS_ij = P_ij · (dO_i·v_j − D_i)
//   dQ_i = scale · Σ_j dS_ij · k_j
// Each invocation owns RQ query rows (q, dO and the dQ accumulator in registers) and loops over the
// keys it may see; every dQ element is written by exactly one invocation (deterministic, no atomics).
// attention_dkv.wgsl then makes the key-side pass (dK, dV) reading the D written here.

struct Params {
  heads: u32,       // B·H
  tq: u32,          // query rows per head
  tk: u32,          // keys per head
  blocks: u32,      // ceil(tq / RQ): invocations per head
  causal_off: u32,  // causal: query i sees keys j ≤ i + causal_off (tk − tq)
  scale: f32,       // softmax scale (dQ = scale · dS·K)
  scale2: f32,      // scale · log2(e)
  l_off: u32,       // L's offset in its buffer (it follows O there: heads·tq·D)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;     // [heads, tq, D]
@group(0) @binding(2) var<storage, read> K: array<f32>;     // [heads, tk, D]
@group(0) @binding(3) var<storage, read> V: array<f32>;     // [heads, tk, D]
@group(0) @binding(4) var<storage, read> O: array<f32>;     // [heads, tq, D]
@group(0) @binding(5) var<storage, read> dO: array<f32>;    // [heads, tq, D]
@group(0) @binding(6) var<storage, read> L: array<f32>;     // [heads, tq] natural-log LSE at l_off
@group(0) @binding(7) var<storage, read_write> Dsum: array<f32>;  // [heads, tq]
@group(0) @binding(8) var<storage, read_write> dQ: array<f32>;    // [heads, tq, D]

const D: u32 = 64u;    // head dim (specialized)
const RQ: u32 = 2u;    // query rows per invocation (specialized)
override WG: u32 = 64u;
override CAUSAL: u32 = 0u;

const LOG2E: f32 = 1.4426950408889634;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * WG;
  let h = id / p.blocks;
  if (h >= p.heads) { return; }
  let i0 = (id % p.blocks) * RQ;
  let qbase = h * p.tq * D;
  let kvbase = h * p.tk * D;

  var q: array<array<f32, D>, RQ>;
  var g: array<array<f32, D>, RQ>;    // dO rows
  var dq: array<array<f32, D>, RQ>;
  var lse2: array<f32, RQ>;           // L in base 2
  var delta: array<f32, RQ>;
  var last: array<u32, RQ>;
  for (var r = 0u; r < RQ; r++) {
    // Rows past tq repeat row tq−1 (in-bounds loads); their stores are skipped.
    let i = min(i0 + r, p.tq - 1u);
    let rb = qbase + i * D;
    var dsum = 0.0;
    for (var c = 0u; c < D; c++) {
      q[r][c] = Q[rb + c] * p.scale2;
      g[r][c] = dO[rb + c];
      dsum = fma(g[r][c], O[rb + c], dsum);
      dq[r][c] = 0.0;
    }
    delta[r] = dsum;
    lse2[r] = L[p.l_off + h * p.tq + i] * LOG2E;
    last[r] = select(p.tk - 1u, min(i + p.causal_off, p.tk - 1u), CAUSAL != 0u);
  }
  var kend = 0u;
  for (var r = 0u; r < RQ; r++) { kend = max(kend, last[r] + 1u); }

  for (var j = 0u; j < kend; j++) {
    let kb = kvbase + j * D;
    var s: array<f32, RQ>;
    var dp: array<f32, RQ>;
    for (var r = 0u; r < RQ; r++) { s[r] = 0.0; dp[r] = 0.0; }
    for (var c = 0u; c < D; c++) {
      let kv = K[kb + c];
      let vv = V[kb + c];
      for (var r = 0u; r < RQ; r++) { s[r] = fma(q[r][c], kv, s[r]); dp[r] = fma(g[r][c], vv, dp[r]); }
    }
    var ds: array<f32, RQ>;
    for (var r = 0u; r < RQ; r++) {
      let pr = select(exp2(s[r] - lse2[r]), 0.0, j > last[r]);
      ds[r] = pr * (dp[r] - delta[r]);
    }
    for (var c = 0u; c < D; c++) {
      let kv = K[kb + c];
      for (var r = 0u; r < RQ; r++) { dq[r][c] = fma(ds[r], kv, dq[r][c]); }
    }
  }

  for (var r = 0u; r < RQ; r++) {
    let i = i0 + r;
    if (i >= p.tq) { break; }
    for (var c = 0u; c < D; c++) { dQ[qbase + i * D + c] = dq[r][c] * p.scale; }
    Dsum[h * p.tq + i] = delta[r];
  }
}
