// Row reductions of a dense [rows, len] matrix to [rows]: sum, max, min, argmax, argmin.
// The output is declared as u32 words: f32 results are stored as their bits, arg results as i32
// indices (ties go to the lowest index), so no index ever passes through a float register.
// Two schedules: `per_thread` (one invocation per row: many short rows, no barriers, which
// llvmpipe likes) and `per_group` (one workgroup per row with a shared-memory tree: few long rows).

struct Params { rows: u32, len: u32, scale: f32, _p: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

override OP: u32 = 0u;   // 0 sum (times scale), 1 max, 2 min, 3 argmax, 4 argmin
override WG: u32 = 64u;

const BIG: f32 = 3.402823e38;

fn init() -> f32 {
  switch OP {
    case 0u: { return 0.0; }
    case 1u, 3u: { return -BIG; }
    default: { return BIG; }
  }
}

// Combines (value, index) pairs; for arg ops the lower index wins ties. NaN wins max/argmax.
fn better(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  switch OP {
    case 1u, 3u: { return v > bv || (v == bv && i < bi) || (v != v && bv == bv); }
    default: { return v < bv || (v == bv && i < bi) || (v != v && bv == bv); }
  }
}

fn finish(v: f32, i: u32) -> u32 {
  switch OP {
    case 0u: { return bitcast<u32>(v * p.scale); }
    case 3u, 4u: { return i; }
    default: { return bitcast<u32>(v); }
  }
}

@compute @workgroup_size(WG)
fn per_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let base = r * p.len;
  var acc = init();
  var idx = 0u;
  for (var j = 0u; j < p.len; j++) {
    let v = x[base + j];
    if (OP == 0u) { acc += v; } else if (better(v, j, acc, idx) || j == 0u) { acc = v; idx = j; }
  }
  out[r] = finish(acc, idx);
}

var<workgroup> sv: array<f32, WG>;
var<workgroup> si: array<u32, WG>;

@compute @workgroup_size(WG)
fn per_group(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;
  let t = lid.x;
  var acc = init();
  var idx = 0xffffffffu;
  if (r < p.rows) {
    let base = r * p.len;
    for (var j = t; j < p.len; j += WG) {
      let v = x[base + j];
      if (OP == 0u) { acc += v; } else if (idx == 0xffffffffu || better(v, j, acc, idx)) { acc = v; idx = j; }
    }
  }
  sv[t] = acc;
  si[t] = idx;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) {
      let ov = sv[t + s];
      let oi = si[t + s];
      if (OP == 0u) { sv[t] += ov; }
      else if (oi != 0xffffffffu && (si[t] == 0xffffffffu || better(ov, oi, sv[t], si[t]))) { sv[t] = ov; si[t] = oi; }
    }
    workgroupBarrier();
  }
  if (t == 0u && r < p.rows) { out[r] = finish(sv[0], si[0]); }
}

// per_column_vec4 (sums only): the reduced axes lead, so x is a dense [len, rows] matrix and each
// invocation sums 4 adjacent columns down it, vec4 loads in a fixed order; rows % 4 = 0. It spares
// the transposing copy that moving the reduced axes last would need (a Linear's bias gradient, the
// sum of g [B, T, C] over B and T: a copy of g, then C rows).
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn per_column_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c4 = gid.x + gid.y * nwg.x * WG;
  let cols4 = p.rows / 4u;
  if (c4 >= cols4) { return; }
  var acc = vec4<f32>(0.0);
  for (var i = 0u; i < p.len; i++) { acc += x4[i * cols4 + c4]; }
  let s = acc * p.scale;
  out[4u * c4] = bitcast<u32>(s.x);
  out[4u * c4 + 1u] = bitcast<u32>(s.y);
  out[4u * c4 + 2u] = bitcast<u32>(s.z);
  out[4u * c4 + 3u] = bitcast<u32>(s.w);
}
