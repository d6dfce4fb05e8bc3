// Input gradient of norm.wgsl (layerNorm / groupNorm), row by row. With x̂ = (x − mean)·rstd and
// gy = g · w[ch] (g alone without a weight):
//   dx = rstd · (gy − mean_j(gy) − x̂ · mean_j(gy · x̂))
// Rows, channels and the two schedules are as in norm.wgsl. Without a weight the op binds x as w
// (and as b without a bias). With the fused SiLU (ACT = 1), g is the gradient of y = silu(a),
// a = x̂·w + b, and the kernel first takes it to a: g · silu'(a), with a recomputed from x.
// `per_thread_vec4`: per_thread for groupNorm rows whose positions per channel are a multiple of 4
// (x, g and dx as vec4s, each channel's weight and bias loaded once; see norm.wgsl).

struct Params { rows: u32, len: u32, groups: u32, inner: u32, cpg: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;   // [rows, 2]: mean, rstd
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read> b: array<f32>;

override HAS_W: bool = true;
override HAS_B: bool = true;
override ACT: u32 = 0u;   // 0: none, 1: SiLU after the affine map
override WG: u32 = 64u;

//#include norm_affine.wgsl

// The gradient at the normalised value x̂ (before the weight): g, through the activation, times w.
fn gy(i: u32, ch: u32, xh: f32) -> f32 {
  var v = g[i];
  if (ACT == 1u) {
    var a = xh;
    if (HAS_W) { a *= w[ch]; }
    if (HAS_B) { a += b[ch]; }
    let s = 1.0 / (1.0 + exp(-a));
    v *= s * (1.0 + a * (1.0 - s));
  }
  if (HAS_W) { v *= w[ch]; }
  return v;
}

// Σ_j gy and Σ_j gy·x̂ over columns j0, j0+step, ... of row r.
fn row_sums(r: u32, j0: u32, step: u32, len: u32) -> vec2<f32> {
  let base = r * p.len;
  let ch0 = (r % p.groups) * p.cpg;
  let mean = stats[2u * r];
  let rstd = stats[2u * r + 1u];
  var acc = vec2<f32>(0.0);
  for (var j = j0; j < len; j += step) {
    let xh = (x[base + j] - mean) * rstd;
    let v = gy(base + j, ch0 + j / p.inner, xh);
    acc += vec2<f32>(v, v * xh);
  }
  return acc;
}

fn write_row(r: u32, sums: vec2<f32>, j0: u32, step: u32) {
  let base = r * p.len;
  let ch0 = (r % p.groups) * p.cpg;
  let mean = stats[2u * r];
  let rstd = stats[2u * r + 1u];
  let m = sums / f32(p.len);
  for (var j = j0; j < p.len; j += step) {
    let xh = (x[base + j] - mean) * rstd;
    dx[base + j] = rstd * (gy(base + j, ch0 + j / p.inner, xh) - m.x - xh * m.y);
  }
}

@compute @workgroup_size(WG)
fn per_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  write_row(r, row_sums(r, 0u, 1u, p.len), 0u, 1u);
}

var<workgroup> red: array<vec2<f32>, WG>;

@compute @workgroup_size(WG)
fn per_group(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;   // uniform over the workgroup
  let t = lid.x;
  let live = r < p.rows;
  red[t] = select(vec2<f32>(0.0), row_sums(min(r, p.rows - 1u), t, WG, p.len), live);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] += red[t + s]; }
    workgroupBarrier();
  }
  if (live) { write_row(r, red[0], t, WG); }
}

// per_thread_vec4: x, g and dx again as vec4 arrays (no entry point uses both declarations).
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> g4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dx4: array<vec4<f32>>;

// gy for 4 values g with their x̂ and affine maps w, b (1 and 0 where the op has none).
fn gy_affine4(g: vec4<f32>, xh: vec4<f32>, w: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  var v = g;
  if (ACT == 1u) {
    let a = xh * w + b;
    let s = 1.0 / (1.0 + exp(-a));
    v *= s * (1.0 + a * (1.0 - s));
  }
  if (HAS_W) { v *= w; }
  return v;
}

// gy for 4 positions of one channel, whose weight and bias are wb (channel_affine).
fn gy4(i: u32, wb: vec2<f32>, xh: vec4<f32>) -> vec4<f32> {
  return gy_affine4(g4[i], xh, vec4<f32>(wb.x), vec4<f32>(wb.y));
}

@compute @workgroup_size(WG)
fn per_thread_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let base = r * (p.len / 4u);
  let ch0 = (r % p.groups) * p.cpg;
  let inner4 = p.inner / 4u;
  let mean = stats[2u * r];
  let rstd = stats[2u * r + 1u];
  // Σ gy and Σ gy·x̂ over the row, then dx.
  var s1 = vec4<f32>(0.0);
  var s2 = vec4<f32>(0.0);
  var j = base;
  for (var c = 0u; c < p.cpg; c++) {
    let wb = channel_affine(ch0 + c);
    for (var i = 0u; i < inner4; i++) {
      let xh = (x4[j] - mean) * rstd;
      let v = gy4(j, wb, xh);
      s1 += v;
      s2 += v * xh;
      j++;
    }
  }
  let m1 = dot(s1, vec4<f32>(1.0)) / f32(p.len);
  let m2 = dot(s2, vec4<f32>(1.0)) / f32(p.len);
  j = base;
  for (var c = 0u; c < p.cpg; c++) {
    let wb = channel_affine(ch0 + c);
    for (var i = 0u; i < inner4; i++) {
      let xh = (x4[j] - mean) * rstd;
      dx4[j] = rstd * (gy4(j, wb, xh) - m1 - xh * m2);
      j++;
    }
  }
}

// per_thread_cols_vec4: per_thread for layerNorm rows (groups 1, inner 1: the channel is the column)
// of a multiple of 4 columns: x, g, dx, w and b all as vec4s (no per-element division for the
// channel; w and b again as vec4 arrays). Without a weight/bias the op binds x in their place; never read.
@group(0) @binding(2) var<storage, read> w4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> b4: array<vec4<f32>>;

// gy for the 4 columns at vec4 `c` of the row whose first vec4 is `base`.
fn gy_cols4(base: u32, c: u32, xh: vec4<f32>) -> vec4<f32> {
  var w = vec4<f32>(1.0);
  var b = vec4<f32>(0.0);
  if (HAS_W) { w = w4[c]; }
  if (HAS_B && ACT == 1u) { b = b4[c]; }
  return gy_affine4(g4[base + c], xh, w, b);
}

@compute @workgroup_size(WG)
fn per_thread_cols_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let len4 = p.len / 4u;
  let base = r * len4;
  let mean = stats[2u * r];
  let rstd = stats[2u * r + 1u];
  var s1 = vec4<f32>(0.0);
  var s2 = vec4<f32>(0.0);
  for (var c = 0u; c < len4; c++) {
    let xh = (x4[base + c] - mean) * rstd;
    let v = gy_cols4(base, c, xh);
    s1 += v;
    s2 += v * xh;
  }
  let m1 = dot(s1, vec4<f32>(1.0)) / f32(p.len);
  let m2 = dot(s2, vec4<f32>(1.0)) / f32(p.len);
  for (var c = 0u; c < len4; c++) {
    let xh = (x4[base + c] - mean) * rstd;
    dx4[base + c] = rstd * (gy_cols4(base, c, xh) - m1 - xh * m2);
  }
}
