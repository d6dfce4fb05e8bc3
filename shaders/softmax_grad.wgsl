// Backward of softmax.wgsl over rows of dense [rows, len] matrices, from the forward output y and
// the output gradient g:
//   softmax:    dx = y ⊙ (g − Σ_j g_j y_j)
//   logSoftmax: dx = g − exp(y) · Σ_j g_j        (exp(y) is the softmax)
// Same two schedules as the forward kernel.

// Causal rows as in softmax.wgsl: row r reads its first row_live(r) entries and writes 0 past them
// (nothing with dead_unwritten).
struct Params { rows: u32, len: u32, causal_tq: u32, causal_off: u32, row0: u32, dead_unwritten: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

override LOG: bool = false;
override WG: u32 = 64u;

// The row's contribution of column j to the inner sum.
fn term(i: u32) -> f32 {
  if (LOG) { return g[i]; }
  return g[i] * y[i];
}

//#include row_live.wgsl

fn write_row(base: u32, dot: f32, j0: u32, step: u32, live: u32) {
  for (var j = j0; j < live; j += step) {
    let i = base + j;
    if (LOG) { dx[i] = g[i] - exp(y[i]) * dot; } else { dx[i] = y[i] * (g[i] - dot); }
  }
  if (p.dead_unwritten != 0u) { return; }
  for (var j = live + (j0 + step - live % step) % step; j < p.len; j += step) { dx[base + j] = 0.0; }
}

@compute @workgroup_size(WG)
fn per_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let base = r * p.len;
  let n = row_live(r);
  var dot = 0.0;
  for (var j = 0u; j < n; j++) { dot += term(base + j); }
  write_row(base, dot, 0u, 1u, n);
}

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn per_group(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;
  let t = lid.x;
  let live = r < p.rows;
  let base = select(0u, r * p.len, live);
  let len = select(0u, row_live(r), live);
  var acc = 0.0;
  for (var j = t; j < len; j += WG) { acc += term(base + j); }
  red[t] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] += red[t + s]; }
    workgroupBarrier();
  }
  if (live) { write_row(base, red[0], t, WG, len); }
}

// per_thread_vec4: per_thread for rows of a multiple of 4 columns, y, g and dx as vec4 arrays (as
// softmax.wgsl's per_thread_vec4: the entries of a causal row's last vec4 past its end are masked
// by select and written 0).
@group(0) @binding(1) var<storage, read> y4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx4: array<vec4<f32>>;

fn term4(c: u32) -> vec4<f32> {
  if (LOG) { return g4[c]; }
  return g4[c] * y4[c];
}

@compute @workgroup_size(WG)
fn per_thread_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let row = live_vec4s(r);
  let base = row.base;
  let full = row.full;
  var acc = vec4<f32>(0.0);
  for (var c = 0u; c < full; c++) { acc += term4(base + c); }
  if (row.has_tail) { acc += select(vec4<f32>(0.0), term4(base + full), row.tail); }
  let dot4 = dot(acc, vec4<f32>(1.0));
  for (var c = 0u; c < row.written; c++) {
    let i = base + c;
    var o: vec4<f32>;
    if (LOG) { o = g4[i] - exp(y4[i]) * dot4; } else { o = y4[i] * (g4[i] - dot4); }
    dx4[i] = select(vec4<f32>(0.0), o, lanes_before(c, row.n));
  }
  if (p.dead_unwritten != 0u) { return; }
  for (var c = row.written; c < p.len / 4u; c++) { dx4[base + c] = vec4<f32>(0.0); }
}
