// Picking one element per row along the last axis, and its gradient, on dense tensors:
//   pick:    dst[r] = src[r, idx[r]]                 src [rows, len], idx [rows] i32, dst [rows]
//   scatter: dst[r, j] = (j == idx[r]) ? src[r] : 0  src = g [rows], dst = dx [rows, len]
// An index outside [0, len) picks 0 and receives no gradient. The scatter writes every element of
// dx exactly once (no zero-fill pass, no atomics).

struct Params { rows: u32, len: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn pick(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let j = u32(idx[r]);   // a negative index wraps to a huge one: out of range
  dst[r] = select(0.0, src[r * p.len + min(j, p.len - 1u)], j < p.len);
}

@compute @workgroup_size(WG)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= p.rows * p.len) { return; }
  let r = e / p.len;
  dst[e] = select(0.0, src[r], u32(idx[r]) == e - r * p.len);
}
