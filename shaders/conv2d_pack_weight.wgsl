// Repacks conv weights w [Cout, Cin, KH, KW] for conv2d_window.wgsl, whose inner loop reads the
// weights of TM consecutive output channels of one (input channel, tap) as vec4 loads:
//   forward (flip = 0):         wp[(a·KH + ky)·KW + kx, b] = w[b, a, ky, kx]                   a = ci, b = co
//   input gradient (flip = 1):  wp[(a·KH + ky)·KW + kx, b] = w[a, b, KH-1-ky, KW-1-kx]         a = co, b = ci
// (the input gradient of a stride-1 convolution is the convolution of the output gradient with the
// flipped kernel, input and output channels swapped). Columns b ≥ B up to `cols` (a multiple of the
// kernel's TM) are zero, so the window kernel's vec4 loads never need a bound.

struct Params {
  A: u32, B: u32, KH: u32, KW: u32,        // wp: [A·KH·KW, cols]
  cols: u32, flip: u32, total: u32, Cin: u32,  // total = A·KH·KW·cols; Cin of w
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;          // [Cout, Cin, KH, KW]
@group(0) @binding(2) var<storage, read_write> wp: array<f32>;   // [A·KH·KW, cols]

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.total) { return; }
  let b = t % p.cols;
  let r = t / p.cols;                      // (a·KH + ky)·KW + kx
  let kx = r % p.KW;
  let ky = (r / p.KW) % p.KH;
  let a = r / (p.KW * p.KH);
  var v = 0.0;
  if (b < p.B) {
    let KK = p.KH * p.KW;
    if (p.flip == 0u) {
      v = w[(b * p.Cin + a) * KK + ky * p.KW + kx];
    } else {
      v = w[(a * p.Cin + b) * KK + (p.KH - 1u - ky) * p.KW + (p.KW - 1u - kx)];
    }
  }
  wp[t] = v;
}
