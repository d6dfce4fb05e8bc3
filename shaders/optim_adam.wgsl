// Adam / AdamW step, fused into one pass over four dense f32 buffers: `main` updates one parameter
// tensor [n]; `flat` updates a run [start, start + n) of the optimizer's flat buffers (every
// parameter end to end, src/optim/flat.ts) as vec4s, a grid-stride loop over few workgroups. Both
// apply the gradient scale (global-norm clipping), weight decay (L2 into the gradient for Adam,
// decoupled for AdamW), both moment updates, bias correction and the parameter update.
// The same arithmetic as PyTorch's single-tensor Adam:
//   w ← w·(1 − lr·wd)                       (AdamW only)
//   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
//   w ← w − (lr/bc1) · m / (√v/√bc2 + ε),   bc_k = 1 − β_k^t (on the host, from the step count)

struct Params {
  n: u32,              // elements (flat: vec4s)
  start: u32,          // flat: first vec4 of the run
  _p1: u32, _p2: u32,
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

// One Adam update of four lanes (the scalar entry uses lane x): parameter, first and second moment.
struct Updated { w: vec4<f32>, m: vec4<f32>, v: vec4<f32> }

fn adam(w0: vec4<f32>, g0: vec4<f32>, m0: vec4<f32>, v0: vec4<f32>, s: f32) -> Updated {
  var w = w0;
  var g = g0 * s;
  if (DECOUPLED) {
    w = w * p.decay;
  } else {
    g = g + p.weight_decay * w;
  }
  let m = p.beta1 * m0 + (1.0 - p.beta1) * g;
  let v = p.beta2 * v0 + (1.0 - p.beta2) * g * g;
  return Updated(w - p.step_size * m / (sqrt(v) / p.sqrt_bc2 + p.eps), m, v);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let s = grad_scale[0];
  // 0: the gradients were not finite (optim_grad_norm.wgsl); leave parameter and moments as they are.
  if (i >= p.n || s == 0.0) { return; }
  let u = adam(vec4(param[i]), vec4(grad[i]), vec4(exp_avg[i]), vec4(exp_avg_sq[i]), s);
  param[i] = u.w.x;
  exp_avg[i] = u.m.x;
  exp_avg_sq[i] = u.v.x;
}

// ---- flat: the same bindings as vec4 arrays (no entry point uses both declarations)
@group(0) @binding(1) var<storage, read_write> param4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> grad4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> exp_avg4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> exp_avg_sq4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn flat(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let s = grad_scale[0];
  if (s == 0.0) { return; }
  let stride = nwg.x * nwg.y * WG;
  for (var k = gid.x + gid.y * nwg.x * WG; k < p.n; k += stride) {
    let i = p.start + k;
    let u = adam(param4[i], grad4[i], exp_avg4[i], exp_avg_sq4[i], s);
    param4[i] = u.w;
    exp_avg4[i] = u.m;
    exp_avg_sq4[i] = u.v;
  }
}
