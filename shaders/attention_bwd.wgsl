// Fused attention backward in one pass: every (query block, key block) pair of a head is visited
// once, and the visit produces all three gradients' shares of that pair:
//   P_ij  = exp(scale · q_i·k_j − L_i)                  (recomputed from Q, K and the forward's L)
//   dV_j += Σ_i P_ij · dO_i
//   dS_ij = P_ij · (dO_i·v_j − D_i)                      (D_i = dO_i·O_i, attention_bwd_prep.wgsl)
//   dK_j += scale · Σ_i dS_ij · q_i
//   dQ_i += scale · Σ_j dS_ij · k_j
// Five T×T×d products per pair, against seven for the query pass + key pass pair (attention_dq.wgsl,
// attention_dkv.wgsl), which each recompute the scores and dO·vᵀ.
//
// Determinism without float atomics, by a diagonal schedule: dispatch t pairs key block j with
// query block (j + t) mod nblk, so within one dispatch each dQ block and each dK/dV block has one
// writer (a plain read-modify-write), and every gradient element sums its pairs in the fixed order
// of the dispatches. nblk = max(query blocks, key blocks) dispatches cover every pair exactly once;
// for causal attention the pairs above the diagonal exit at once. Memory stays linear in T (the P
// and dS tiles of a pair live in workgroup memory).
//
// Inside a pair (a key block of WG·RK keys, a query block of QB queries), three phases:
//   A. key-major: an invocation owns RK keys and steps through the query block BQ queries at a
//      time, an RK×BQ register tile of scores (s = k·qᵀ → P) then of dO·vᵀ (→ scaled dS), each in
//      its own pass over the head dim; P and dS go to workgroup memory as [key][query quad] vec4s.
//   B. key-major, after the one barrier: dV = P·dO and dK = dS·Q for the invocation's keys, one
//      vec4 of the head dim at a time, accumulated in registers over the whole query block; one
//      read-modify-write of dK and dV per pair.
//   C. head-dim-major: an invocation owns vec4s of the head dim of every query of the block and
//      walks the keys, adding dS·K to dQ; each K load feeds all the block's queries (query-major,
//      an invocation per query quad, cost ~2× as much: one K load per 4 queries).
// On llvmpipe every float loaded or stored costs an exec-mask test, a bounds check and a scalar
// access per lane (even at a uniform address), while an FMA is one instruction for 8 lanes; a
// barrier is a coroutine switch. So: tiles that reuse each load, the dK/dV accumulation out of the
// per-step loop (a read-modify-write per BQ queries cost ~40% of the kernel), one barrier per
// pair, and the head dim a uniform (rolled loops: short compiles). Accumulator arrays are indexed
// only inside constant-bound loops, which unroll into registers.

struct Params {
  h0: u32,          // first head of this dispatch
  tq: u32,          // query rows per head
  tk: u32,          // keys per head
  causal_off: u32,  // causal: query i sees keys j ≤ i + causal_off (tk − tq)
  scale: f32,
  scale2: f32,      // scale · log2(e)
  l_off: u32,       // L's offset in its buffer, in floats (it follows O there)
  d4: u32,          // head dim / 4
  t: u32,           // this dispatch's diagonal
  nblk: u32,        // max(query blocks, key blocks)
  d_off: u32,       // D's offset in dQ's buffer, in floats (it follows dQ there: heads·tq·D)
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;    // [heads, tq, D/4]
@group(0) @binding(2) var<storage, read> K: array<vec4<f32>>;    // [heads, tk, D/4]
@group(0) @binding(3) var<storage, read> V: array<vec4<f32>>;    // [heads, tk, D/4]
@group(0) @binding(4) var<storage, read> dO: array<vec4<f32>>;   // [heads, tq, D/4]
@group(0) @binding(5) var<storage, read> L: array<f32>;          // [heads, tq] natural-log LSE at l_off
@group(0) @binding(6) var<storage, read_write> dQ: array<vec4<f32>>;  // [heads, tq, D/4], then D [heads, tq] at d_off
@group(0) @binding(7) var<storage, read_write> dK: array<vec4<f32>>;  // [heads, tk, D/4]
@group(0) @binding(8) var<storage, read_write> dV: array<vec4<f32>>;  // [heads, tk, D/4]

// Tile sizes (specialized by ops/attention.ts): keys per invocation, queries per phase-A step,
// query quads per block (the block is 4·NQ4 queries).
const RK: u32 = 8u;
const BQ: u32 = 8u;
const NQ4: u32 = 8u;
override WG: u32 = 8u;
override CAUSAL: u32 = 0u;

const LOG2E: f32 = 1.4426950408889634;
const QB: u32 = 4u * NQ4;
const BQ4: u32 = BQ / 4u;

// The pair's P and scaled dS: [key (WG·RK)][query quad (NQ4)].
var<workgroup> Psh: array<vec4<f32>, WG * RK * NQ4>;
var<workgroup> dSsh: array<vec4<f32>, WG * RK * NQ4>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = p.h0 + wid.y;
  let j = wid.x;
  let i = (j + p.t) % p.nblk;
  let kb0 = j * WG * RK;         // first key of the block
  let qb0 = i * QB;              // first query of the block
  let qend = min(qb0 + QB, p.tq);
  // Uniform exits: no such query block, or (causal) no query of it sees the block's first key.
  if (qb0 >= p.tq || (CAUSAL != 0u && kb0 > qend - 1u + p.causal_off)) { return; }
  // Causal: the first query that sees key kb0, rounded down to a BQ step of the block (queries
  // before it see no key of the block; their P and dS are never written nor read).
  var qstart = qb0;
  if (CAUSAL != 0u && kb0 > p.causal_off + qb0) { qstart = qb0 + (kb0 - p.causal_off - qb0) / BQ * BQ; }
  let quad0 = (qstart - qb0) / 4u;
  let qbase = h * p.tq;
  let kvbase = h * p.tk;

  // This invocation's keys (phases A and B). Rows past tk read row tk−1 and never write.
  var rb: array<u32, RK>;
  var valid: array<bool, RK>;
  var key: array<u32, RK>;
  var kl: array<u32, RK>;        // the key's row in the block
  for (var r = 0u; r < RK; r++) {
    kl[r] = r * WG + lid.x;
    let row = kb0 + kl[r];
    key[r] = min(row, p.tk - 1u);
    valid[r] = row < p.tk;
    rb[r] = (kvbase + key[r]) * p.d4;
  }

  // Phase A: P and dS of the pair, BQ queries at a time. Queries past tq read query tq−1 and are masked.
  for (var i0 = qstart; i0 < qend; i0 += BQ) {
    var qi: array<u32, BQ>;
    var lse2: array<f32, BQ>;
    var delta: array<f32, BQ>;
    for (var ii = 0u; ii < BQ; ii++) {
      let q = min(i0 + ii, p.tq - 1u);
      qi[ii] = (qbase + q) * p.d4;
      lse2[ii] = L[p.l_off + qbase + q] * LOG2E;
      let di = p.d_off + qbase + q;     // D_q, a float in dQ's vec4 array
      delta[ii] = dQ[di / 4u][di % 4u];
    }
    var s: array<array<f32, BQ>, RK>;
    for (var r = 0u; r < RK; r++) { for (var ii = 0u; ii < BQ; ii++) { s[r][ii] = 0.0; } }
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
        let q = i0 + ii;
        let masked = q >= p.tq || (CAUSAL != 0u && key[r] > q + p.causal_off);
        s[r][ii] = select(exp2(s[r][ii] * p.scale2 - lse2[ii]), 0.0, masked);
      }
    }
    var dp: array<array<f32, BQ>, RK>;
    for (var r = 0u; r < RK; r++) { for (var ii = 0u; ii < BQ; ii++) { dp[r][ii] = 0.0; } }
    for (var c = 0u; c < p.d4; c++) {
      var gv: array<vec4<f32>, BQ>;
      for (var ii = 0u; ii < BQ; ii++) { gv[ii] = dO[qi[ii] + c]; }
      for (var r = 0u; r < RK; r++) {
        let vv = V[rb[r] + c];
        for (var ii = 0u; ii < BQ; ii++) { dp[r][ii] += dot(vv, gv[ii]); }
      }
    }
    // scale · dS = scale · P · (dO·vᵀ − D); both tiles to workgroup memory
    let quad = (i0 - qb0) / 4u;
    for (var r = 0u; r < RK; r++) {
      for (var ii = 0u; ii < BQ; ii++) { dp[r][ii] = p.scale * s[r][ii] * (dp[r][ii] - delta[ii]); }
      for (var b = 0u; b < BQ4; b++) {
        let at = kl[r] * NQ4 + quad + b;
        Psh[at] = vec4<f32>(s[r][4u * b], s[r][4u * b + 1u], s[r][4u * b + 2u], s[r][4u * b + 3u]);
        dSsh[at] = vec4<f32>(dp[r][4u * b], dp[r][4u * b + 1u], dp[r][4u * b + 2u], dp[r][4u * b + 3u]);
      }
    }
  }
  workgroupBarrier();

  // Phase B: dV_r += Σ_q P·dO_q, dK_r += Σ_q scale·dS·q_q over the block, a vec4 of d at a time.
  // Quads of a BQ step past qend hold masked (zero) P and dS: reading them is harmless.
  let quads = (qend - qstart + 3u) / 4u;
  for (var c = 0u; c < p.d4; c++) {
    var av: array<vec4<f32>, RK>;
    var ak: array<vec4<f32>, RK>;
    for (var r = 0u; r < RK; r++) { av[r] = vec4<f32>(0.0); ak[r] = vec4<f32>(0.0); }
    for (var u = 0u; u < quads; u++) {
      let q0 = qbase + qstart + 4u * u;
      var gv: array<vec4<f32>, 4>;
      var qv: array<vec4<f32>, 4>;
      for (var ii = 0u; ii < 4u; ii++) {
        let row = (min(q0 + ii, qbase + p.tq - 1u)) * p.d4 + c;
        gv[ii] = dO[row];
        qv[ii] = Q[row];
      }
      for (var r = 0u; r < RK; r++) {
        let pv = Psh[kl[r] * NQ4 + quad0 + u];
        let sv = dSsh[kl[r] * NQ4 + quad0 + u];
        for (var ii = 0u; ii < 4u; ii++) {
          av[r] = fma(vec4<f32>(pv[ii]), gv[ii], av[r]);
          ak[r] = fma(vec4<f32>(sv[ii]), qv[ii], ak[r]);
        }
      }
    }
    for (var r = 0u; r < RK; r++) {
      if (valid[r]) {
        dV[rb[r] + c] = dV[rb[r] + c] + av[r];
        dK[rb[r] + c] = dK[rb[r] + c] + ak[r];
      }
    }
  }

  // Phase C: dQ += scale·dS·K. Invocation x owns the head-dim vec4s c = x, x + WG, ... of every
  // query of the block and walks the block's keys: each K load feeds 4·NQ4 queries (the dS vec4s
  // are the same for every invocation). Accumulators: 4·NQ4 vec4s, indexed by unrolled loops only.
  let kfirst = (kvbase + kb0) * p.d4;
  let kn = min(WG * RK, p.tk - kb0);
  for (var c = lid.x; c < p.d4; c += WG) {
    var acc: array<vec4<f32>, 4u * NQ4>;
    for (var a = 0u; a < 4u * NQ4; a++) { acc[a] = vec4<f32>(0.0); }
    for (var k = 0u; k < kn; k++) {
      let kv = K[kfirst + k * p.d4 + c];
      for (var u = 0u; u < NQ4; u++) {
        // Quads before quad0 were never written (their queries see no key of the block).
        if (u >= quad0) {
          let ds = dSsh[k * NQ4 + u];
          for (var ii = 0u; ii < 4u; ii++) { acc[4u * u + ii] = fma(vec4<f32>(ds[ii]), kv, acc[4u * u + ii]); }
        }
      }
    }
    for (var u = 0u; u < NQ4; u++) {
      for (var ii = 0u; ii < 4u; ii++) {
        let q = qb0 + 4u * u + ii;
        if (u >= quad0 && q < qend) {
          let at = (qbase + q) * p.d4 + c;
          dQ[at] = dQ[at] + acc[4u * u + ii];
        }
      }
    }
  }
}
