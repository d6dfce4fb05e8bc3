// Normalisation over the rows of a dense [rows, len] matrix with a per-channel affine map: the
// forward pass of layerNorm and groupNorm.
//   y = (x − mean_r) · rstd_r · w[ch] + b[ch],   rstd_r = 1 / sqrt(var_r + eps)   (biased variance)
// and it saves stats[r] = (mean_r, rstd_r) for the backward pass. ACT = 1 fuses a SiLU after the
// affine map (y = a·sigmoid(a)): the GroupNorm → SiLU of pre-activation residual blocks in one pass
// (norm_grad.wgsl and norm_param_grad.wgsl recompute a from x and the stats).
// Channel of column j of row r: ch = (r mod groups) · cpg + j / inner, which covers
//   layerNorm  x [..., D]:         rows = Π leading dims, len = D, groups = 1, inner = 1, cpg = D
//   groupNorm  x [N, C, *spatial]: rows = N·G, len = (C/G)·S, groups = G, inner = S, cpg = C/G
// (a group of channels of one sample is a contiguous run of memory in channel-first layout).
// Mean and variance take two passes over the row (no catastrophic cancellation of E[x²] − E[x]²).
// Schedules as in reduce.wgsl: `per_thread` (a row per invocation) and `per_group` (a row per workgroup);
// `per_thread_vec4` is per_thread for groupNorm rows whose positions per channel (inner) are a
// multiple of 4: x and y as vec4s, each channel's weight and bias loaded once (on llvmpipe every
// per-lane load is a bounds-checked scalar load, a vec4 costing about one float's).
// Without weight/bias (HAS_W/HAS_B false) the op binds x in their place; they are never read.

struct Params { rows: u32, len: u32, groups: u32, inner: u32, cpg: u32, eps: f32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;   // [rows, 2]: mean, rstd

override HAS_W: bool = true;
override HAS_B: bool = true;
override ACT: u32 = 0u;   // 0: none, 1: SiLU
override WG: u32 = 64u;

//#include norm_affine.wgsl

fn write_row(r: u32, mean: f32, rstd: f32, j0: u32, step: u32) {
  let base = r * p.len;
  let ch0 = (r % p.groups) * p.cpg;
  for (var j = j0; j < p.len; j += step) {
    let ch = ch0 + j / p.inner;
    var v = (x[base + j] - mean) * rstd;
    if (HAS_W) { v *= w[ch]; }
    if (HAS_B) { v += b[ch]; }
    if (ACT == 1u) { v = v / (1.0 + exp(-v)); }
    y[base + j] = v;
  }
}

@compute @workgroup_size(WG)
fn per_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let base = r * p.len;
  let n = f32(p.len);
  var s = 0.0;
  for (var j = 0u; j < p.len; j++) { s += x[base + j]; }
  let mean = s / n;
  var q = 0.0;
  for (var j = 0u; j < p.len; j++) { let d = x[base + j] - mean; q += d * d; }
  let rstd = inverseSqrt(q / n + p.eps);
  stats[2u * r] = mean;
  stats[2u * r + 1u] = rstd;
  write_row(r, mean, rstd, 0u, 1u);
}

var<workgroup> red: array<f32, WG>;

fn group_sum(t: u32, v: f32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] += red[t + s]; }
    workgroupBarrier();
  }
  let out = red[0];
  workgroupBarrier(); // `red` is reused by the next sum
  return out;
}

@compute @workgroup_size(WG)
fn per_group(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;   // uniform over the workgroup: every lane reaches every barrier
  let t = lid.x;
  let live = r < p.rows;
  let base = select(0u, r * p.len, live);
  let len = select(0u, p.len, live);
  let n = f32(p.len);
  var s = 0.0;
  for (var j = t; j < len; j += WG) { s += x[base + j]; }
  let mean = group_sum(t, s) / n;
  var q = 0.0;
  for (var j = t; j < len; j += WG) { let d = x[base + j] - mean; q += d * d; }
  let rstd = inverseSqrt(group_sum(t, q) / n + p.eps);
  if (!live) { return; }
  if (t == 0u) {
    stats[2u * r] = mean;
    stats[2u * r + 1u] = rstd;
  }
  write_row(r, mean, rstd, t, WG);
}

// per_thread_vec4: x and y again as vec4 arrays (no entry point uses both declarations).
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y4: array<vec4<f32>>;

// Row r as the vec4 entries read it: where its len/4 vec4s start in x4, and its (mean, rstd), two
// passes as per_thread, saved in stats.
struct Vec4Row { base: u32, len4: u32, mean: f32, rstd: f32 }

fn vec4_row(r: u32) -> Vec4Row {
  let len4 = p.len / 4u;
  let base = r * len4;
  let n = f32(p.len);
  var s = vec4<f32>(0.0);
  for (var j = 0u; j < len4; j++) { s += x4[base + j]; }
  let mean = dot(s, vec4<f32>(1.0)) / n;
  var q = vec4<f32>(0.0);
  for (var j = 0u; j < len4; j++) { let d = x4[base + j] - mean; q += d * d; }
  let rstd = inverseSqrt(dot(q, vec4<f32>(1.0)) / n + p.eps);
  stats[2u * r] = mean;
  stats[2u * r + 1u] = rstd;
  return Vec4Row(base, len4, mean, rstd);
}

@compute @workgroup_size(WG)
fn per_thread_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let row = vec4_row(r);
  let mean = row.mean;
  let rstd = row.rstd;
  let ch0 = (r % p.groups) * p.cpg;
  let inner4 = p.inner / 4u;
  var j = row.base;
  for (var c = 0u; c < p.cpg; c++) {
    let wb = channel_affine(ch0 + c);
    for (var i = 0u; i < inner4; i++) {
      var v = (x4[j] - mean) * rstd;
      if (HAS_W) { v *= wb.x; }
      if (HAS_B) { v += wb.y; }
      if (ACT == 1u) { v = v / (1.0 + exp(-v)); }
      y4[j] = v;
      j++;
    }
  }
}

// per_thread_cols_vec4: per_thread for layerNorm rows (groups 1, inner 1: the channel is the column)
// of a multiple of 4 columns: x, y, w and b all as vec4s (w and b again as vec4 arrays: no entry
// point uses both declarations). Without weight/bias the op binds x in their place; never read.
@group(0) @binding(2) var<storage, read> w4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn per_thread_cols_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let row = vec4_row(r);
  let mean = row.mean;
  let rstd = row.rstd;
  for (var j = 0u; j < row.len4; j++) {
    var v = (x4[row.base + j] - mean) * rstd;
    if (HAS_W) { v *= w4[j]; }
    if (HAS_B) { v += b4[j]; }
    if (ACT == 1u) { v = v / (1.0 + exp(-v)); }
    y4[row.base + j] = v;
  }
}
