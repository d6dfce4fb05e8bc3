// Attention decode step (flash-decoding): one new query per head against the first `tk` rows of a
// key/value cache,  O[h, :] = Σ_j softmax_j(scale · q_h·K[h, j, :]) · V[h, j, :].
// One query row gives the row-per-invocation forward (attention.wgsl) nothing to spread over a
// workgroup, so here a workgroup takes one head and splits its keys over the invocations:
// invocation t folds keys t, t+WG, ... into its own online-softmax state (m, l, acc[D]); the
// partial states then meet in workgroup memory (one barrier) and are merged, each invocation
// producing a few output components. Deterministic: a fixed merge order.

struct Params {
  h0: u32,       // first head of this dispatch (grids split heads over dispatches past the x limit)
  tk: u32,       // cache rows in use (the length), ≥ 1
  kv_hs: u32,    // head stride of the caches in vec4s (Tmax·D/4)
  scale2: f32,   // scale · log2(e)
  d4: u32,       // = D4, as a uniform (see attention.wgsl: keeps these loops rolled)
  _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;          // [heads, D/4]
@group(0) @binding(2) var<storage, read> K: array<vec4<f32>>;          // [heads, Tmax, D/4]
@group(0) @binding(3) var<storage, read> V: array<vec4<f32>>;          // [heads, Tmax, D/4]
@group(0) @binding(4) var<storage, read_write> O: array<vec4<f32>>;    // [heads, D/4]

const D4: u32 = 16u;   // head dim / 4 (specialized)
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
  var q: array<vec4<f32>, D4>;
  var acc: array<vec4<f32>, D4>;
  for (var c = 0u; c < p.d4; c++) { q[c] = Q[h * D4 + c] * p.scale2; acc[c] = vec4<f32>(0.0); }
  var m = MASKED;
  var l = 0.0;
  for (var j = t; j < p.tk; j += WG) {
    let kb = kvbase + j * D4;
    var dot4 = vec4<f32>(0.0);
    for (var c = 0u; c < p.d4; c++) { dot4 = fma(q[c], K[kb + c], dot4); }
    let s = dot4.x + dot4.y + dot4.z + dot4.w;
    let mn = max(m, s);
    let corr = exp2(m - mn);
    let e = exp2(s - mn);
    m = mn;
    l = l * corr + e;
    for (var c = 0u; c < p.d4; c++) { acc[c] = fma(vec4<f32>(e), V[kb + c], acc[c] * corr); }
  }
  part_m[t] = m;
  part_l[t] = l;
  for (var c = 0u; c < p.d4; c++) { part_acc[t][c] = acc[c]; }
  workgroupBarrier();

  // Merge: rescale every partial state to the common max M.
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
