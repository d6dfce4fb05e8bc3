// Cross-entropy backward when xent.wgsl stored the unscaled gradient rows (STORE_GRAD): scales
// them in place by f_r, the upstream gradient times the reduction's factor:
//   grad[r, j] *= f_r     f_r = g[r] (PER_ROW, reduction 'none'), else g[0] · norm[0]
// Ignored and out-of-range rows hold zeros already. Schedules as in xent_grad.wgsl.

struct Params { rows: u32, len: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
// [1] from xent_reduce.wgsl; with PER_ROW any buffer (g itself), never read.
@group(0) @binding(2) var<storage, read> norm: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;

override PER_ROW: bool = false;
override WG: u32 = 64u;

fn scale_row(r: u32, j0: u32, step: u32) {
  var f: f32;
  if (PER_ROW) { f = g[r]; } else { f = g[0] * norm[0]; }
  let base = r * p.len;
  for (var j = j0; j < p.len; j += step) { grad[base + j] *= f; }
}

@compute @workgroup_size(WG)
fn per_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r < p.rows) { scale_row(r, 0u, 1u); }
}

@compute @workgroup_size(WG)
fn per_group(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;
  if (r < p.rows) { scale_row(r, lid.x, WG); }
}
