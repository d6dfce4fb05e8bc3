// Fused scaled dot-product attention, forward (flash-attention style, one pass over the keys):
//   O[h, i, :] = Σ_j softmax_j(scale · Q[h, i, :]·K[h, j, :]) · V[h, j, :]
//   L[h, i]    = log Σ_j exp(scale · Q[h, i, :]·K[h, j, :])      (natural log; what backward needs)
// h runs over the B·H heads. The T×T score matrix is never stored: each invocation owns RQ query
// rows and streams the keys in blocks of BK, holding an RQ×BK tile of scores in registers and the
// rows' softmax state (running max m, running sum l) beside it (online softmax: the output rows are
// rescaled once per key block).
//
// Schedule, and why. Cost on llvmpipe (lavapipe), measured: a workgroup's invocations are SIMD lanes
// of one CPU thread, and inside a loop every memory access (storage, workgroup or a dynamically
// indexed private array, uniform address or not) is a per-lane gather/scatter costing several FMAs'
// time; only values in registers (private arrays indexed by constants) are cheap. So the kernel is
// register-blocked like matmul.wgsl: per vec4 step of the head dim it loads RQ query and BK key
// vec4s and does RQ·BK dot products (QKᵀ), then per vec4 column loads BK value vec4s and updates RQ
// output vec4s (P·V). The output rows are the accumulators: they live in O itself (read-modify-write
// once per key block, not once per key). No private array is sized by the head dim, so nothing is
// indexed dynamically in registers and the head dim is a plain uniform: one pipeline serves every d.
// Loops over the head dim run to that uniform, so LLVM keeps them rolled (a constant trip count would
// unroll everything and llvmpipe's compile would take minutes); the RQ and BK loops are small
// constants and unroll. ops/attention.ts picks RQ×BK = 8×8 on a CPU rasteriser (best measured, d=64),
// 1×8 on a GPU (parallelism over rows). A workgroup covers WG·RQ consecutive rows of one head, and
// its key loop bound is workgroup-uniform (rows mask the keys they may not see): on a CPU WG is 8
// (64 rows), so a causal workgroup wastes little past the diagonal. No barriers.
//
// The same kernel serves the decode path with several new queries (prefill against a key/value
// cache): K/V rows of a head are `kv_hs` vec4s apart (Tmax·D/4 for a cache), only `tk` keys are read.

struct Params {
  h0: u32,          // first head of this dispatch (grids split heads over dispatches past the y limit)
  tq: u32,          // query rows per head
  tk: u32,          // keys visible per head (≤ the rows of K/V's head stride)
  kv_hs: u32,       // head stride of K and V in vec4s (Tk·D/4, or Tmax·D/4 for a cache)
  causal_off: u32,  // causal: query i sees keys j ≤ i + causal_off (tk − tq)
  scale2: f32,      // scale · log2(e): scores in base 2, so the kernel uses exp2
  l_off: u32,       // where L starts in OL, in floats (heads·tq·D, a multiple of 4)
  d4: u32,          // head dim / 4
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;   // [heads, tq, D/4]
@group(0) @binding(2) var<storage, read> K: array<vec4<f32>>;   // [heads, ·, D/4]
@group(0) @binding(3) var<storage, read> V: array<vec4<f32>>;   // [heads, ·, D/4]
// O [heads, tq, D/4] then L [heads, tq] in one buffer, so that L lives exactly as long as O.
@group(0) @binding(4) var<storage, read_write> OL: array<vec4<f32>>;

// Register-tile sizes size private arrays, so they are `const`: ops/attention.ts specialize()s them.
const RQ: u32 = 4u;    // query rows per invocation
const BK: u32 = 8u;    // keys per block
override WG: u32 = 64u;
override CAUSAL: u32 = 0u;

const LN2: f32 = 0.6931471805599453;
const MASKED: f32 = -1e30;   // finite "−∞": exp2(MASKED − m) is 0 without inf − inf = NaN

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = p.h0 + wid.y;
  let first = wid.x * WG * RQ;                 // the workgroup's first row (uniform)
  let kvbase = h * p.kv_hs;

  // Row r of this invocation is first + r·WG + lid: the workgroup's rows are contiguous. Rows past
  // tq read row tq−1 (in-bounds loads) and never write.
  var rb: array<u32, RQ>;      // the row's first vec4 in Q and O
  var valid: array<bool, RQ>;
  var last: array<u32, RQ>;    // last key the row may see
  var m: array<f32, RQ>;
  var l: array<f32, RQ>;
  for (var r = 0u; r < RQ; r++) {
    let row = first + r * WG + lid.x;
    let i = min(row, p.tq - 1u);
    valid[r] = row < p.tq;
    rb[r] = (h * p.tq + i) * p.d4;
    last[r] = select(p.tk - 1u, min(i + p.causal_off, p.tk - 1u), CAUSAL != 0u);
    m[r] = MASKED;
    l[r] = 0.0;
    if (valid[r]) { for (var c = 0u; c < p.d4; c++) { OL[rb[r] + c] = vec4<f32>(0.0); } }
  }
  // Keys the workgroup's last row sees: the same bound for every invocation. Every row sees key 0,
  // so after the first block each row's max is finite and fully masked blocks add exactly 0.
  let last_row = min(first + WG * RQ, p.tq) - 1u;
  let kend = select(p.tk, min(last_row + p.causal_off + 1u, p.tk), CAUSAL != 0u);

  for (var j0 = 0u; j0 < kend; j0 += BK) {
    // Keys past kend read key kend−1 and are masked.
    var kb: array<u32, BK>;
    for (var jj = 0u; jj < BK; jj++) { kb[jj] = kvbase + min(j0 + jj, kend - 1u) * p.d4; }

    // s[r][jj] = q_r · k_{j0+jj}
    var s: array<array<f32, BK>, RQ>;
    for (var r = 0u; r < RQ; r++) { for (var jj = 0u; jj < BK; jj++) { s[r][jj] = 0.0; } }
    for (var c = 0u; c < p.d4; c++) {
      var kv: array<vec4<f32>, BK>;
      for (var jj = 0u; jj < BK; jj++) { kv[jj] = K[kb[jj] + c]; }
      for (var r = 0u; r < RQ; r++) {
        let qv = Q[rb[r] + c];
        for (var jj = 0u; jj < BK; jj++) { s[r][jj] += dot(qv, kv[jj]); }
      }
    }

    // Online softmax: the block's max, the correction of the old state, s ← exp2(s − max).
    var corr: array<f32, RQ>;
    for (var r = 0u; r < RQ; r++) {
      var bm = m[r];
      for (var jj = 0u; jj < BK; jj++) {
        s[r][jj] = select(s[r][jj] * p.scale2, MASKED, j0 + jj > last[r]);
        bm = max(bm, s[r][jj]);
      }
      corr[r] = exp2(m[r] - bm);
      m[r] = bm;
      var sum = 0.0;
      for (var jj = 0u; jj < BK; jj++) { s[r][jj] = exp2(s[r][jj] - bm); sum += s[r][jj]; }
      l[r] = l[r] * corr[r] + sum;
    }

    // O_r ← O_r · corr_r + Σ_jj s[r][jj] · v_{j0+jj}
    for (var c = 0u; c < p.d4; c++) {
      var vv: array<vec4<f32>, BK>;
      for (var jj = 0u; jj < BK; jj++) { vv[jj] = V[kb[jj] + c]; }
      for (var r = 0u; r < RQ; r++) {
        if (valid[r]) {
          var a = OL[rb[r] + c] * corr[r];
          for (var jj = 0u; jj < BK; jj++) { a = fma(vec4<f32>(s[r][jj]), vv[jj], a); }
          OL[rb[r] + c] = a;
        }
      }
    }
  }

  for (var r = 0u; r < RQ; r++) {
    if (!valid[r]) { continue; }
    let inv = 1.0 / l[r];
    for (var c = 0u; c < p.d4; c++) { OL[rb[r] + c] = OL[rb[r] + c] * inv; }
    let li = p.l_off + rb[r] / p.d4;   // L[h, i]: one float of a vec4 (floats are distinct locations)
    OL[li / 4u][li % 4u] = (m[r] + log2(l[r])) * LN2;
  }
}
