// Adam / AdamW step for one parameter tensor, fused into one pass over its four dense [n] f32
// buffers: gradient scale (global-norm clipping), weight decay (L2 into the gradient for Adam,
// decoupled for AdamW), both moment updates, bias correction and the parameter update.
// The same arithmetic as PyTorch's single-tensor Adam:
//   w ← w·(1 − lr·wd)                       (AdamW only)
//   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
//   w ← w − (lr/bc1) · m / (√v/√bc2 + ε),   bc_k = 1 − β_k^t (on the host, from the step count)

struct Params {
  n: u32, _p0: u32, _p1: u32, _p2: u32,
  beta1: f32, beta2: f32, eps: f32, weight_decay: f32,
  step_size: f32,      // lr / bc1
  sqrt_bc2: f32,       // √bc2
  decay: f32,          // 1 − lr·wd (AdamW)
  _p3: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> exp_avg: array<f32>;
@group(0) @binding(4) var<storage, read_write> exp_avg_sq: array<f32>;
@group(0) @binding(5) var<storage, read> grad_scale: array<f32>;   // [1]: clip factor (or 1); 0 = skip the step

override DECOUPLED: bool = true;   // AdamW
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let s = grad_scale[0];
  // 0: the gradients were not finite (optim_grad_norm.wgsl); leave parameter and moments as they are.
  if (i >= p.n || s == 0.0) { return; }
  var w = param[i];
  var g = grad[i] * s;
  if (DECOUPLED) {
    w = w * p.decay;
  } else {
    g = g + p.weight_decay * w;
  }
  let m = p.beta1 * exp_avg[i] + (1.0 - p.beta1) * g;
  let v = p.beta2 * exp_avg_sq[i] + (1.0 - p.beta2) * g * g;
  exp_avg[i] = m;
  exp_avg_sq[i] = v;
  param[i] = w - p.step_size * m / (sqrt(v) / p.sqrt_bc2 + p.eps);
}
