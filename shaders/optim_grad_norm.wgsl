// Global gradient norm for clipping, with no readback. Two entry points:
//   sumsq:  one dispatch per gradient [n]: each of its p.groups·WG invocations writes the sum of
//           squares of a strided share of the gradient to partial[base + invocation]. No barriers
//           (CPU rasterisers run barrier code per invocation, ~10× slower; see notes/webgpu-on-cpu.md).
//   finish: one workgroup sums partial[0 .. count) → norm[0] = √total,
//           scale[0] = min(1, max_norm / (norm + 1e-6)) (or 1 when p.clip = 0), the factor optimizer
//           kernels multiply by. A non-finite norm (NaN or Inf anywhere in the gradients) sets
//           scale[0] = 0, which the update kernels read as "skip this step", and adds 1 to
//           skipped[0], a running count the host reads at log time.
// Both reduce in a fixed order, so the norm is deterministic run to run.

struct Params { n: u32, groups: u32, base: u32, clip: u32, max_norm: f32, _p1: f32, _p2: f32, _p3: f32 }

@group(0) @binding(0) var<uniform> p: Params;

override WG: u32 = 64u;

// ---- sumsq: bindings 1 = grad, 2 = partial
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(WG)
fn sumsq(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  var s = 0.0;
  for (var i = t; i < p.n; i += p.groups * WG) {
    let g = grad[i];
    s += g * g;
  }
  partial[p.base + t] = s;
}

// ---- finish: bindings 1 = partials (count = p.n), 2 = norm, 3 = scale, 4 = skipped
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> norm: array<f32>;
@group(0) @binding(3) var<storage, read_write> scale: array<f32>;
@group(0) @binding(4) var<storage, read_write> skipped: array<f32>;

// By the bits, not by comparisons: WGSL lets compilers assume floats are finite.
fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }

var<workgroup> acc: array<f32, WG>;

@compute @workgroup_size(WG)
fn finish(@builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
  var s = 0.0;
  for (var i = t; i < p.n; i += WG) { s += partials[i]; }
  acc[t] = s;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (t < k) { acc[t] += acc[t + k]; }
    workgroupBarrier();
  }
  if (t == 0u) {
    let nrm = sqrt(acc[0]);
    norm[0] = nrm;
    if (is_finite(nrm)) {
      scale[0] = select(1.0, min(1.0, p.max_norm / (nrm + 1e-6)), p.clip == 1u);
    } else {
      scale[0] = 0.0;
      skipped[0] = skipped[0] + 1.0;
    }
  }
}
