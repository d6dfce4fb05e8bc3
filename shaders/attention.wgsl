// Fused scaled dot-product attention, forward (flash-attention style, one pass over the keys):
//   O[h, i, :] = Σ_j softmax_j(scale · Q[h, i, :]·K[h, j, :]) · V[h, j, :]
//   L[h, i]    = log Σ_j exp(scale · Q[h, i, :]·K[h, j, :])      (natural log; what backward needs)
// h runs over the B·H heads. The T×T score matrix is never stored: each invocation owns RQ query
// rows, keeps their softmax state (running max m, running sum l, accumulator acc[D]) in registers
// and streams the keys in blocks of 4, rescaling acc once per block (online softmax).
//
// Schedule: a workgroup covers WG·RQ consecutive query rows of one head (head = workgroup_id.y), and
// its key loop bound is the same for the whole workgroup (rows mask the keys they may not see). So
// every K/V address is workgroup-uniform: one load broadcast to all rows (on llvmpipe, where the
// invocations are SIMD lanes of one CPU thread, a scalar load instead of a gather). No shared
// memory and no barriers, which are expensive there. Loops over the head dim run over vec4s.
//
// The same kernel serves the decode path (new queries against a key/value cache): K/V rows of a
// head are `kv_hs` vec4s apart (Tmax·D/4 for a cache) and only the first `tk` keys are read.

struct Params {
  h0: u32,          // first head of this dispatch (grids split heads over dispatches past the y limit)
  tq: u32,          // query rows per head
  tk: u32,          // keys visible per head (≤ the rows of K/V's head stride)
  kv_hs: u32,       // head stride of K and V in vec4s (Tk·D/4, or Tmax·D/4 for a cache)
  causal_off: u32,  // causal: query i sees keys j ≤ i + causal_off (tk − tq)
  scale2: f32,      // scale · log2(e): scores in base 2, so the kernel uses exp2
  l_off: u32,       // where L starts in OL (heads·tq·D)
  d4: u32,         // = D4, as a uniform: see the note at D4
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;   // [heads, tq, D/4]
@group(0) @binding(2) var<storage, read> K: array<vec4<f32>>;   // [heads, ·, D/4]
@group(0) @binding(3) var<storage, read> V: array<vec4<f32>>;   // [heads, ·, D/4]
// O [heads, tq, D] then L [heads, tq] in one buffer, so that L lives exactly as long as O.
@group(0) @binding(4) var<storage, read_write> OL: array<f32>;

// Private array sizes must be `const`: ops/attention.ts `specialize()`s these per variant.
const D4: u32 = 16u;   // head dim / 4 (specialized); sizes the private arrays
// Loops over the head dim run to the uniform p.d4 (= D4), not to the constant: with a constant trip
// count the compiler unrolls them fully, and llvmpipe's LLVM then takes minutes to compile a kernel.
const RQ: u32 = 1u;    // query rows per invocation
override WG: u32 = 64u;
override CAUSAL: u32 = 0u;

const LN2: f32 = 0.6931471805599453;
const MASKED: f32 = -1e30;   // finite "−∞": exp2(MASKED − m) is 0 without inf − inf = NaN

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = p.h0 + wid.y;
  let first = wid.x * WG * RQ;                 // the workgroup's first row (uniform)
  let qbase = h * p.tq * D4;
  let kvbase = h * p.kv_hs;

  // Row r of this invocation is first + r·WG + lid: the workgroup's rows are contiguous. Rows past
  // tq repeat row tq−1 (in-bounds loads); their stores are skipped.
  var q: array<array<vec4<f32>, D4>, RQ>;
  var acc: array<array<vec4<f32>, D4>, RQ>;
  var m: array<f32, RQ>;
  var l: array<f32, RQ>;
  var last: array<u32, RQ>;   // last key each row may see
  for (var r = 0u; r < RQ; r++) {
    let i = min(first + r * WG + lid.x, p.tq - 1u);
    for (var c = 0u; c < p.d4; c++) { q[r][c] = Q[qbase + i * D4 + c] * p.scale2; acc[r][c] = vec4<f32>(0.0); }
    m[r] = MASKED;
    l[r] = 0.0;
    last[r] = select(p.tk - 1u, min(i + p.causal_off, p.tk - 1u), CAUSAL != 0u);
  }
  // Keys the workgroup's last row sees: the same bound for every invocation.
  let last_row = min(first + WG * RQ, p.tq) - 1u;
  let kend = select(p.tk, min(last_row + p.causal_off + 1u, p.tk), CAUSAL != 0u);

  for (var j0 = 0u; j0 < kend; j0 += 4u) {
    // s[r] = scale2 · q_r · k_{j0..j0+3}; keys past kend load row kend−1 and are masked.
    var s: array<vec4<f32>, RQ>;
    for (var jj = 0u; jj < 4u; jj++) {
      let kb = kvbase + min(j0 + jj, kend - 1u) * D4;
      var dot4: array<vec4<f32>, RQ>;
      for (var r = 0u; r < RQ; r++) { dot4[r] = vec4<f32>(0.0); }
      for (var c = 0u; c < p.d4; c++) {
        let kv = K[kb + c];
        for (var r = 0u; r < RQ; r++) { dot4[r] = fma(q[r][c], kv, dot4[r]); }
      }
      for (var r = 0u; r < RQ; r++) {
        let sc = dot4[r].x + dot4[r].y + dot4[r].z + dot4[r].w;
        s[r][jj] = select(sc, MASKED, j0 + jj > last[r]);
      }
    }
    // Online softmax: new running max, rescale the old sum and accumulator once, then add the block.
    var corr: array<f32, RQ>;
    for (var r = 0u; r < RQ; r++) {
      let bm = max(m[r], max(max(s[r].x, s[r].y), max(s[r].z, s[r].w)));
      corr[r] = exp2(m[r] - bm);
      m[r] = bm;
      s[r] = exp2(s[r] - bm);
      l[r] = l[r] * corr[r] + (s[r].x + s[r].y + s[r].z + s[r].w);
    }
    let vb0 = kvbase + j0 * D4;
    let vb1 = kvbase + min(j0 + 1u, kend - 1u) * D4;
    let vb2 = kvbase + min(j0 + 2u, kend - 1u) * D4;
    let vb3 = kvbase + min(j0 + 3u, kend - 1u) * D4;
    for (var c = 0u; c < p.d4; c++) {
      let v0 = V[vb0 + c];
      let v1 = V[vb1 + c];
      let v2 = V[vb2 + c];
      let v3 = V[vb3 + c];
      for (var r = 0u; r < RQ; r++) {
        let e = s[r];
        acc[r][c] = fma(vec4<f32>(e.x), v0, fma(vec4<f32>(e.y), v1, fma(vec4<f32>(e.z), v2, fma(vec4<f32>(e.w), v3, acc[r][c] * corr[r]))));
      }
    }
  }

  for (var r = 0u; r < RQ; r++) {
    let i = first + r * WG + lid.x;
    if (i >= p.tq) { break; }
    let inv = 1.0 / l[r];
    let ob = (h * p.tq + i) * D4 * 4u;
    for (var c = 0u; c < p.d4; c++) {
      let o = acc[r][c] * inv;
      OL[ob + 4u * c] = o.x;
      OL[ob + 4u * c + 1u] = o.y;
      OL[ob + 4u * c + 2u] = o.z;
      OL[ob + 4u * c + 3u] = o.w;
    }
    OL[p.l_off + h * p.tq + i] = (m[r] + log2(l[r])) * LN2;
  }
}
