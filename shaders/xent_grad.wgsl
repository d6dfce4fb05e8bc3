// Cross-entropy backward, recomputing each gradient row from the logits and the per-row
// log-sum-exp that xent.wgsl stored (no N×V buffer lives between forward and backward):
//   dx[r, j] = f_r · (exp(x[r, j] − lse_r) − (1−ε)[j = t_r] − ε/V)     0 for ignored / out-of-range rows
// f_r is the upstream gradient times the reduction's factor: g[r] per row (PER_ROW, reduction
// 'none'), else g[0] · norm[0] (norm from xent_reduce.wgsl: 1/count for 'mean', 1 for 'sum').
// The row statistics are already known, so both schedules are barrier-free: `per_thread` (an
// invocation per row) and `per_group` (a workgroup per row, lanes striding the columns: coalesced).

struct Params { rows: u32, len: u32, ignore_index: i32, smoothing: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
// [1] from xent_reduce.wgsl; with PER_ROW any buffer (g itself), never read.
@group(0) @binding(2) var<storage, read> norm: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> targets: array<i32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

override PER_ROW: bool = false;
override WG: u32 = 64u;

fn write_row(r: u32, j0: u32, step: u32) {
  let base = r * p.len;
  let t = targets[r];
  if (t == p.ignore_index || t < 0 || u32(t) >= p.len) {
    for (var j = j0; j < p.len; j += step) { dx[base + j] = 0.0; }
    return;
  }
  var f: f32;
  if (PER_ROW) { f = g[r]; } else { f = g[0] * norm[0]; }
  let shift = lse[r];
  let off = p.smoothing / f32(p.len);
  let on = 1.0 - p.smoothing;
  for (var j = j0; j < p.len; j += step) {
    dx[base + j] = f * (exp(x[base + j] - shift) - off - select(0.0, on, j == u32(t)));
  }
}

@compute @workgroup_size(WG)
fn per_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r < p.rows) { write_row(r, 0u, 1u); }
}

@compute @workgroup_size(WG)
fn per_group(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;
  if (r < p.rows) { write_row(r, lid.x, WG); }
}
