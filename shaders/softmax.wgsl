// Softmax / log-softmax over the rows of a dense [rows, len] matrix (the op moves any other axis
// last first). Numerically stable: every row is shifted by its maximum before exp.
//   softmax:    y = exp(x - m) / s                s = Σ_j exp(x_j - m), m = max_j x_j
//   logSoftmax: y = x - m - log(s)
// Two schedules, as in reduce.wgsl: `per_thread` (one invocation per row, no barriers: many short
// rows, and CPU rasterisers) and `per_group` (one workgroup per row, shared-memory trees: few long rows).

// Causal rows (causal_tq > 0: the scores of causal attention, rows = (…, query) of causal_tq queries):
// row r reads its first min(len, q + causal_off + 1) entries only, q = (row0 + r) % causal_tq, and
// writes 0 past them, so what lies there (never computed) is never read; with dead_unwritten, nothing
// past them (for readers that take it as 0: the triangular products of causal attention).
// row0: the first row of a chunk.
struct Params { rows: u32, len: u32, causal_tq: u32, causal_off: u32, row0: u32, dead_unwritten: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

override LOG: bool = false;
override WG: u32 = 64u;

const BIG: f32 = 3.402823e38;

//#include row_live.wgsl

// Writes row `r` given its maximum `m` and Σ exp(x - m) `s`, columns j0, j0+step, ... (0 from `live` on).
fn write_row(base: u32, m: f32, s: f32, j0: u32, step: u32, live: u32) {
  if (LOG) {
    let shift = m + log(s);
    for (var j = j0; j < live; j += step) { y[base + j] = x[base + j] - shift; }
  } else {
    let inv = 1.0 / s;
    for (var j = j0; j < live; j += step) { y[base + j] = exp(x[base + j] - m) * inv; }
  }
  if (p.dead_unwritten != 0u) { return; }
  for (var j = live + (j0 + step - live % step) % step; j < p.len; j += step) { y[base + j] = 0.0; }
}

@compute @workgroup_size(WG)
fn per_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let base = r * p.len;
  let n = row_live(r);
  var m = -BIG;
  for (var j = 0u; j < n; j++) { m = max(m, x[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < n; j++) { s += exp(x[base + j] - m); }
  write_row(base, m, s, 0u, 1u, n);
}

var<workgroup> red: array<f32, WG>;

// Tree reduction of `v` over the workgroup (max when `is_max`, else sum); every lane gets the result.
fn group_reduce(t: u32, v: f32, is_max: bool) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] = select(red[t] + red[t + s], max(red[t], red[t + s]), is_max); }
    workgroupBarrier();
  }
  let out = red[0];
  workgroupBarrier(); // `red` is reused by the next reduction
  return out;
}

@compute @workgroup_size(WG)
fn per_group(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  // The row index is uniform over the workgroup, so every lane reaches every barrier.
  let r = wid.x + wid.y * nwg.x;
  let t = lid.x;
  let live = r < p.rows;
  let base = select(0u, r * p.len, live);
  let len = select(0u, row_live(r), live);
  var m = -BIG;
  for (var j = t; j < len; j += WG) { m = max(m, x[base + j]); }
  m = group_reduce(t, m, true);
  var s = 0.0;
  for (var j = t; j < len; j += WG) { s += exp(x[base + j] - m); }
  s = group_reduce(t, s, false);
  if (live) { write_row(base, m, s, t, WG, len); }
}

// per_thread_vec4: per_thread for rows of a multiple of 4 columns, x and y as vec4 arrays (no entry
// point uses both declarations): on llvmpipe every per-lane load or store is a bounds-checked scalar
// access, a vec4 costing about one float's. A causal row may end inside a vec4: that vec4's entries
// from the row's end on are masked by select (never by arithmetic: they may hold anything) and
// written 0, which readers of dead entries take as they take anything.
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn per_thread_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let row = live_vec4s(r);
  let base = row.base;
  let full = row.full;
  var m4 = vec4<f32>(-BIG);
  for (var c = 0u; c < full; c++) { m4 = max(m4, x4[base + c]); }
  if (row.has_tail) { m4 = max(m4, select(vec4<f32>(-BIG), x4[base + full], row.tail)); }
  let m = max(max(m4.x, m4.y), max(m4.z, m4.w));
  var s4 = vec4<f32>(0.0);
  for (var c = 0u; c < full; c++) { s4 += exp(x4[base + c] - m); }
  if (row.has_tail) { s4 += select(vec4<f32>(0.0), exp(x4[base + full] - m), row.tail); }
  let s = dot(s4, vec4<f32>(1.0));
  let shift = m + log(s);
  let inv = 1.0 / s;
  for (var c = 0u; c < row.written; c++) {
    let v = x4[base + c];
    var o: vec4<f32>;
    if (LOG) { o = v - shift; } else { o = exp(v - m) * inv; }
    y4[base + c] = select(vec4<f32>(0.0), o, lanes_before(c, row.n));
  }
  if (p.dead_unwritten != 0u) { return; }
  for (var c = row.written; c < p.len / 4u; c++) { y4[base + c] = vec4<f32>(0.0); }
}
