// Fused softmax cross-entropy, forward: one pass per row of dense logits x [rows, len] with i32
// targets [rows]. For row r with target t, smoothing ε, V = len, m = max_j x_j, s = Σ_j exp(x_j − m):
//   lse_r  = m + log s
//   loss_r = (1−ε)(lse − x_t) + ε·mean_j(lse − x_j) = log s + (1−ε)(m − x_t) − ε·mean_j(x_j − m)
//   ∂loss_r/∂x_j = exp(x_j − lse) − (1−ε)[j = t] − ε/V
// (the shifted forms keep every term O(spread of the row), so logits of ±1e4 lose nothing).
// Writes loss_r and lse_r, the row's gradient factor: xent_grad.wgsl rebuilds the gradient row
// from x and lse in the backward pass, scaled by the upstream gradient (measured against writing
// the unscaled gradient row here and scaling it in place later: that moves 4 more bytes per logit
// and holds an N×V buffer between the passes, and was 0–45% slower on lavapipe).
// Row status: t == ignore_index → loss 0, lse 0, gradient 0. t outside [0, V) otherwise → loss NaN
// (so the mean is NaN: the bug shows at the next readback), gradient 0; x is never read outside
// the row.
// Two schedules as in softmax.wgsl: `per_thread` (one invocation per row, no barriers) and
// `per_group` (one workgroup per row, shared-memory trees).

// `nan` is a quiet NaN from the host: WGSL constant expressions cannot produce one.
struct Params { rows: u32, len: u32, ignore_index: i32, smoothing: f32, nan: f32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;

override WG: u32 = 64u;

const BIG: f32 = 3.402823e38;

// Writes row r's loss and lse once its maximum `m`, s = Σ exp(x − m) and sx = Σ (x − m) are known.
fn finish_row(r: u32, t: i32, m: f32, s: f32, sx: f32) {
  let ignored = t == p.ignore_index;
  let valid = !ignored && t >= 0 && u32(t) < p.len;
  let eps = p.smoothing;
  // Invalid rows have s = 0: keep log(0) out of every expression.
  let log_s = log(select(1.0, s, valid));
  var l = select(p.nan, 0.0, ignored);
  if (valid) { l = log_s + (1.0 - eps) * (m - x[r * p.len + u32(t)]) - eps * sx / f32(p.len); }
  loss[r] = l;
  lse[r] = select(0.0, m + log_s, valid);
}

@compute @workgroup_size(WG)
fn per_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let base = r * p.len;
  let t = targets[r];
  // An ignored or out-of-range row skips the row statistics.
  let len = select(0u, p.len, t != p.ignore_index && t >= 0 && u32(t) < p.len);
  var m = -BIG;
  for (var j = 0u; j < len; j++) { m = max(m, x[base + j]); }
  var s = 0.0;
  var sx = 0.0;
  for (var j = 0u; j < len; j++) {
    let d = x[base + j] - m;
    s += exp(d);
    sx += d;
  }
  finish_row(r, t, m, s, sx);
}

var<workgroup> red: array<vec2<f32>, WG>;

// Tree reduction over the workgroup of `v`: componentwise max when `is_max`, else sum. Every lane
// gets the result. WG is a power of two.
fn group_reduce(lane: u32, v: vec2<f32>, is_max: bool) -> vec2<f32> {
  red[lane] = v;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lane < h) { red[lane] = select(red[lane] + red[lane + h], max(red[lane], red[lane + h]), is_max); }
    workgroupBarrier();
  }
  let out = red[0];
  workgroupBarrier(); // `red` is reused by the next reduction
  return out;
}

@compute @workgroup_size(WG)
fn per_group(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  // The row is uniform over the workgroup; every lane reaches every barrier.
  let r = wid.x + wid.y * nwg.x;
  let lane = lid.x;
  let live = r < p.rows;
  let t = select(p.ignore_index, targets[min(r, p.rows - 1u)], live);
  let base = select(0u, r * p.len, live);
  let len = select(0u, p.len, live && t != p.ignore_index && t >= 0 && u32(t) < p.len);
  var m = -BIG;
  for (var j = lane; j < len; j += WG) { m = max(m, x[base + j]); }
  m = group_reduce(lane, vec2(m, 0.0), true).x;
  var acc = vec2(0.0);
  for (var j = lane; j < len; j += WG) {
    let d = x[base + j] - m;
    acc += vec2(exp(d), d);
  }
  acc = group_reduce(lane, acc, false);
  if (live && lane == 0u) { finish_row(r, t, m, acc.x, acc.y); }
}
