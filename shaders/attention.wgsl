// Fused scaled dot-product attention, forward (flash-attention style, one pass over the keys):
//   O[h, i, :] = Σ_j softmax_j(scale · Q[h, i, :]·K[h, j, :]) · V[h, j, :]
//   L[h, i]    = log Σ_j exp(scale · Q[h, i, :]·K[h, j, :])      (natural log; what backward needs)
// h runs over the B·H heads. The T×T score matrix is never stored: each invocation owns RQ query
// rows, keeps their softmax state (running max m, running sum l, accumulator acc[D]) in registers
// and streams the keys in blocks of BK, rescaling acc once per block (online softmax). No shared
// memory and no barriers: on llvmpipe a workgroup's invocations are SIMD lanes of one CPU thread,
// and neighbouring lanes (neighbouring query rows of one head) read the same K/V row at once.
//
// The same kernel serves the decode path (one query against a key/value cache): K/V rows of a head
// are `kv_hs` elements apart (Tmax·D for a cache) and only the first `tk` keys are read.

struct Params {
  heads: u32,       // B·H
  tq: u32,          // query rows per head
  tk: u32,          // keys visible per head (≤ the rows of K/V's head stride)
  blocks: u32,      // ceil(tq / RQ): invocations per head
  q_hs: u32,        // head stride of Q and O (tq·D)
  kv_hs: u32,       // head stride of K and V (Tk·D, or Tmax·D for a cache)
  causal_off: u32,  // causal: query i sees keys j ≤ i + causal_off (tk − tq)
  scale2: f32,      // scale · log2(e): scores in base 2, so the kernel uses exp2
  l_off: u32,       // where L starts in OL (heads·tq·D)
  _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
// O [heads, tq, D] then L [heads, tq] in one buffer, so that L lives exactly as long as O.
@group(0) @binding(4) var<storage, read_write> OL: array<f32>;

// Private array sizes must be `const`: ops/attention.ts `specialize()`s these per variant.
const D: u32 = 64u;    // head dim
const RQ: u32 = 2u;    // query rows per invocation (each K/V load serves RQ rows)
const BK: u32 = 16u;   // keys per online-softmax step
override WG: u32 = 64u;
override CAUSAL: u32 = 0u;

const LN2: f32 = 0.6931471805599453;
const MASKED: f32 = -1e30;   // finite "−∞": exp2(MASKED − m) is 0 without inf − inf = NaN

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * WG;
  let h = id / p.blocks;
  if (h >= p.heads) { return; }
  let i0 = (id % p.blocks) * RQ;
  let qbase = h * p.q_hs;
  let kvbase = h * p.kv_hs;

  // Rows past tq (the last block of a head) repeat row tq−1: loads stay in bounds, stores are skipped.
  var q: array<array<f32, D>, RQ>;
  var acc: array<array<f32, D>, RQ>;
  var m: array<f32, RQ>;
  var l: array<f32, RQ>;
  var last: array<u32, RQ>;   // last key each row may see
  for (var r = 0u; r < RQ; r++) {
    let i = min(i0 + r, p.tq - 1u);
    for (var c = 0u; c < D; c++) { q[r][c] = Q[qbase + i * D + c] * p.scale2; acc[r][c] = 0.0; }
    m[r] = MASKED;
    l[r] = 0.0;
    last[r] = select(p.tk - 1u, min(i + p.causal_off, p.tk - 1u), CAUSAL != 0u);
  }
  var kend = 0u;
  for (var r = 0u; r < RQ; r++) { kend = max(kend, last[r] + 1u); }

  for (var j0 = 0u; j0 < kend; j0 += BK) {
    let nk = min(BK, kend - j0);
    // s[r][jj] = scale2 · q_r · k_{j0+jj}
    var s: array<array<f32, BK>, RQ>;
    for (var jj = 0u; jj < nk; jj++) {
      let kb = kvbase + (j0 + jj) * D;
      var dot: array<f32, RQ>;
      for (var r = 0u; r < RQ; r++) { dot[r] = 0.0; }
      for (var c = 0u; c < D; c++) {
        let kv = K[kb + c];
        for (var r = 0u; r < RQ; r++) { dot[r] = fma(q[r][c], kv, dot[r]); }
      }
      for (var r = 0u; r < RQ; r++) { s[r][jj] = select(dot[r], MASKED, j0 + jj > last[r]); }
    }
    // Online softmax: new running max, rescale the old sum and accumulator once, then add the block.
    for (var r = 0u; r < RQ; r++) {
      var bm = m[r];
      for (var jj = 0u; jj < nk; jj++) { bm = max(bm, s[r][jj]); }
      let corr = exp2(m[r] - bm);
      m[r] = bm;
      var bl = 0.0;
      for (var jj = 0u; jj < nk; jj++) { let e = exp2(s[r][jj] - bm); s[r][jj] = e; bl += e; }
      l[r] = l[r] * corr + bl;
      for (var c = 0u; c < D; c++) { acc[r][c] *= corr; }
    }
    for (var jj = 0u; jj < nk; jj++) {
      let vb = kvbase + (j0 + jj) * D;
      for (var c = 0u; c < D; c++) {
        let vv = V[vb + c];
        for (var r = 0u; r < RQ; r++) { acc[r][c] = fma(s[r][jj], vv, acc[r][c]); }
      }
    }
  }

  for (var r = 0u; r < RQ; r++) {
    let i = i0 + r;
    if (i >= p.tq) { break; }
    let inv = 1.0 / l[r];
    for (var c = 0u; c < D; c++) { OL[qbase + i * D + c] = acc[r][c] * inv; }
    OL[p.l_off + h * p.tq + i] = (m[r] + log2(l[r])) * LN2;
  }
}
