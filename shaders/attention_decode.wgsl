// Attention decode step (flash-decoding): one new query per head against the first `tk` rows of a
// key/value cache,  O[h, :] = Σ_j softmax_j(scale · q_h·K[h, j, :]) · V[h, j, :].
// One query row gives the row-per-invocation forward (attention.wgsl) nothing to spread over a
// workgroup, so here a workgroup takes one head and splits its keys over the invocations:
// invocation t folds the key blocks t, t+WG, ... (BK consecutive keys each) into its own
// online-softmax state (m, l, acc[D]); the partial states then meet in workgroup memory (one
// barrier) and are merged, each invocation producing a few output components. Deterministic: a
// fixed merge order.
// Why blocks of BK keys: on llvmpipe every memory access in a loop (the query, the keys, the
// accumulator, uniform address or not) is a per-lane gather/scatter, the expensive part. Per vec4
// step of the head dim a block loads q once and BK keys and does BK dot products in registers, then
// updates acc once per block (BK value loads, one read-modify-write of acc) instead of once per key.
// acc lives in the workgroup array the merge reads (no private copy indexed by the head dim).
// Loops over the head dim run to the uniform p.d4 so that LLVM keeps them rolled (short compiles).

struct Params {
  h0: u32,       // first head of this dispatch (grids split heads over dispatches past the x limit)
  tk: u32,       // cache rows in use (the length), ≥ 1
  kv_hs: u32,    // head stride of the caches in vec4s (Tmax·D/4)
  scale2: f32,   // scale · log2(e)
  d4: u32,       // = D4, as a uniform (keeps the loops over the head dim rolled)
  _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;          // [heads, D/4]
@group(0) @binding(2) var<storage, read> K: array<vec4<f32>>;          // [heads, Tmax, D/4]
@group(0) @binding(3) var<storage, read> V: array<vec4<f32>>;          // [heads, Tmax, D/4]
@group(0) @binding(4) var<storage, read_write> O: array<vec4<f32>>;    // [heads, D/4]

const D4: u32 = 16u;   // head dim / 4 (specialized): sizes the workgroup accumulators
const BK: u32 = 8u;    // consecutive keys per block (specialized)
override WG: u32 = 32u;   // ops/attention.ts sizes it to fit WG partial accumulators in workgroup memory

const MASKED: f32 = -1e30;

var<workgroup> part_m: array<f32, WG>;
var<workgroup> part_l: array<f32, WG>;
var<workgroup> part_acc: array<array<vec4<f32>, D4>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = p.h0 + wid.x;
  let t = lid.x;
  let kvbase = h * p.kv_hs;
  let qb = h * p.d4;
  for (var c = 0u; c < p.d4; c++) { part_acc[t][c] = vec4<f32>(0.0); }
  var m = MASKED;
  var l = 0.0;
  for (var j0 = t * BK; j0 < p.tk; j0 += WG * BK) {
    // Keys past tk read key tk−1 and are masked.
    var kb: array<u32, BK>;
    for (var jj = 0u; jj < BK; jj++) { kb[jj] = kvbase + min(j0 + jj, p.tk - 1u) * p.d4; }
    var s: array<f32, BK>;
    for (var jj = 0u; jj < BK; jj++) { s[jj] = 0.0; }
    for (var c = 0u; c < p.d4; c++) {
      let qv = Q[qb + c];
      for (var jj = 0u; jj < BK; jj++) { s[jj] += dot(qv, K[kb[jj] + c]); }
    }
    // Key j0 < tk is always valid, so bm is finite and masked keys add exactly 0.
    var bm = m;
    for (var jj = 0u; jj < BK; jj++) {
      s[jj] = select(s[jj] * p.scale2, MASKED, j0 + jj >= p.tk);
      bm = max(bm, s[jj]);
    }
    let corr = exp2(m - bm);
    m = bm;
    var sum = 0.0;
    for (var jj = 0u; jj < BK; jj++) { s[jj] = exp2(s[jj] - bm); sum += s[jj]; }
    l = l * corr + sum;
    for (var c = 0u; c < p.d4; c++) {
      var a = part_acc[t][c] * corr;
      for (var jj = 0u; jj < BK; jj++) { a = fma(vec4<f32>(s[jj]), V[kb[jj] + c], a); }
      part_acc[t][c] = a;
    }
  }
  part_m[t] = m;
  part_l[t] = l;
  workgroupBarrier();

  // Merge: rescale every partial state to the common max (idle invocations have l = 0, m = MASKED).
  var mx = MASKED;
  for (var u = 0u; u < WG; u++) { mx = max(mx, part_m[u]); }
  var sum = 0.0;
  for (var u = 0u; u < WG; u++) { sum += part_l[u] * exp2(part_m[u] - mx); }
  let inv = 1.0 / sum;
  for (var c = t; c < p.d4; c += WG) {
    var o = vec4<f32>(0.0);
    for (var u = 0u; u < WG; u++) { o = fma(part_acc[u][c], vec4<f32>(exp2(part_m[u] - mx)), o); }
    O[h * D4 + c] = o * inv;
  }
}
