// Gradient of an elementwise unary op: dx = g · f'(x), on dense tensors of equal size.
// OP codes match unary.wgsl.

struct Params { n: u32, _p: u32, alpha: f32, beta: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

override OP: u32 = 0u;
override WG: u32 = 64u;

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;

fn df(v: f32) -> f32 {
  switch OP {
    case 0u: { return 1.0; }
    case 1u: { return -1.0; }
    case 2u: { return exp(v); }
    case 3u: { return 1.0 / v; }
    case 4u: { return 0.5 / sqrt(v); }
    case 5u: { return sign(v); }
    case 6u: { return select(0.0, 1.0, v > 0.0); }
    case 7u: { return select(p.alpha, 1.0, v > 0.0); }
    case 8u: {
      let u = clamp(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v), -15.0, 15.0);
      let t = tanh(u);
      let du = SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * v * v);
      return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du;
    }
    case 9u: {
      let s = 1.0 / (1.0 + exp(-v));
      return s * (1.0 + v * (1.0 - s));
    }
    case 10u: {
      let t = tanh(clamp(v, -15.0, 15.0));
      return 1.0 - t * t;
    }
    case 11u: {
      let s = 1.0 / (1.0 + exp(-v));
      return s * (1.0 - s);
    }
    case 12u: { return select(0.0, 1.0, v >= p.alpha && v <= p.beta); }
    case 13u: { return p.alpha * pow(v, p.alpha - 1.0); }
    case 14u: { return p.alpha; }
    case 15u: { return 2.0 * v; }
    case 16u: {
      let k = p.alpha - 1.0;
      let r = pow(abs(v), k);
      let odd = (i32(k) & 1) == 1;
      return p.alpha * select(r, -r, odd && v < 0.0);
    }
    case 17u: { return -0.5 / (v * sqrt(v)); }
    case 18u: { return -1.0 / (v * v); }
    default: { return 0.0; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  dx[i] = g[i] * df(x[i]);
}

// main_vec4: all dense and a multiple of 4 elements: vec4 loads and stores (p.n counts vec4s).
// On llvmpipe every per-lane load is a bounds-checked scalar load and a vec4 costs about one, so
// this runs ~2.5× the scalar path (runs/bench: 65k-element silu 350 → 130 µs). The same bindings are
// declared again as vec4 arrays; WGSL allows that since no entry point uses both declarations.
@group(0) @binding(1) var<storage, read> xv: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gv: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dxv: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let v = xv[i];
  dxv[i] = gv[i] * vec4(df(v.x), df(v.y), df(v.z), df(v.w));
}
