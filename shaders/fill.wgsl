// out[i] = start + step·(base + i), stored as f32 or (I32) as the bits of an i32. fill = step 0;
// arange. base: the first element's index when a large tensor is filled in chunks (binding-window.ts).

struct Params { n: u32, base: u32, start: f32, step: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

override I32: bool = false;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let v = p.start + p.step * f32(p.base + i);
  out[i] = select(bitcast<u32>(v), bitcast<u32>(i32(round(v))), I32);
}
