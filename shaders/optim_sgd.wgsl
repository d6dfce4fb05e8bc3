// SGD step for one parameter tensor (dense [n] f32), fused: gradient scale (global-norm
// clipping), L2 weight decay, optional (Nesterov) momentum, parameter update. PyTorch semantics:
//   d ← g·s + wd·w
//   b ← d on the first step, else μ·b + (1−τ)·d          (momentum entry point only)
//   d ← d + μ·b (Nesterov) or d ← b
//   w ← w − lr·d
// Two entry points so that plain SGD binds no momentum buffer.

struct Params {
  n: u32, first: u32, _p0: u32, _p1: u32,
  lr: f32, momentum: f32, dampening: f32, weight_decay: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read> grad_scale: array<f32>;   // [1]: clip factor (or 1); 0 = skip the step
@group(0) @binding(4) var<storage, read_write> momentum_buffer: array<f32>;

override NESTEROV: bool = false;
override WG: u32 = 64u;

fn index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * WG; }

fn direction(i: u32) -> f32 {
  return grad[i] * grad_scale[0] + p.weight_decay * param[i];
}

@compute @workgroup_size(WG)
fn plain(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n || grad_scale[0] == 0.0) { return; }   // 0: non-finite gradients, skip
  param[i] = param[i] - p.lr * direction(i);
}

@compute @workgroup_size(WG)
fn momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= p.n || grad_scale[0] == 0.0) { return; }   // 0: non-finite gradients, skip
  var d = direction(i);
  var b = d;
  if (p.first == 0u) { b = p.momentum * momentum_buffer[i] + (1.0 - p.dampening) * d; }
  momentum_buffer[i] = b;
  if (NESTEROV) { d = d + p.momentum * b; } else { d = b; }
  param[i] = param[i] - p.lr * d;
}
