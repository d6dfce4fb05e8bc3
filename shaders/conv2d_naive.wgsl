// The naive peer of conv2d (benches only): one invocation per output element, every loop over the
// full reduction with bounds checks, NCHW. Three entry points: forward, input gradient, weight
// gradient (the bias gradient is a plain sum). No fused upsample: the bench upsamples first.

struct Params {
  N: u32, Cin: u32, H: u32, W: u32,      // x: [N, Cin, H, W]
  Cout: u32, Ho: u32, Wo: u32, KH: u32,  // y, g: [N, Cout, Ho, Wo]; w: [Cout, Cin, KH, KW]
  KW: u32, S: u32, P: u32, total: u32,   // stride, padding; total = elements of this entry's output
  has_bias: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;          // forward: x, input grad: g, weight grad: g
@group(0) @binding(2) var<storage, read> b: array<f32>;          // forward: w, input grad: w, weight grad: x
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // y, dx or dw
@group(0) @binding(4) var<storage, read> c: array<f32>;          // forward only: bias (after `out`, so
                                                                 // all entries share bindings 1..3)

override WG: u32 = 64u;

fn linear(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// y[n, co, oy, ox]; a = x, b = w, c = bias.
@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = linear(gid, nwg);
  if (idx >= p.total) { return; }
  let ox = idx % p.Wo;
  let oy = (idx / p.Wo) % p.Ho;
  let co = (idx / (p.Wo * p.Ho)) % p.Cout;
  let n = idx / (p.Wo * p.Ho * p.Cout);
  var s = select(0.0, c[co], p.has_bias != 0u);
  for (var ci = 0u; ci < p.Cin; ci++) {
    for (var ky = 0u; ky < p.KH; ky++) {
      for (var kx = 0u; kx < p.KW; kx++) {
        let iy = i32(oy * p.S + ky) - i32(p.P);
        let ix = i32(ox * p.S + kx) - i32(p.P);
        if (iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W)) {
          s += a[((n * p.Cin + ci) * p.H + u32(iy)) * p.W + u32(ix)] * b[((co * p.Cin + ci) * p.KH + ky) * p.KW + kx];
        }
      }
    }
  }
  out[idx] = s;
}

// dx[n, ci, y, x]; a = g, b = w.
@compute @workgroup_size(WG)
fn grad_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = linear(gid, nwg);
  if (idx >= p.total) { return; }
  let x = idx % p.W;
  let y = (idx / p.W) % p.H;
  let ci = (idx / (p.W * p.H)) % p.Cin;
  let n = idx / (p.W * p.H * p.Cin);
  var s = 0.0;
  for (var co = 0u; co < p.Cout; co++) {
    for (var ky = 0u; ky < p.KH; ky++) {
      for (var kx = 0u; kx < p.KW; kx++) {
        let ty = i32(y + p.P) - i32(ky);
        let tx = i32(x + p.P) - i32(kx);
        let S = i32(p.S);
        if (ty >= 0 && tx >= 0 && ty % S == 0 && tx % S == 0 && ty / S < i32(p.Ho) && tx / S < i32(p.Wo)) {
          s += a[((n * p.Cout + co) * p.Ho + u32(ty / S)) * p.Wo + u32(tx / S)] * b[((co * p.Cin + ci) * p.KH + ky) * p.KW + kx];
        }
      }
    }
  }
  out[idx] = s;
}

// dw[co, ci, ky, kx]; a = g, b = x.
@compute @workgroup_size(WG)
fn grad_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = linear(gid, nwg);
  if (idx >= p.total) { return; }
  let kx = idx % p.KW;
  let ky = (idx / p.KW) % p.KH;
  let ci = (idx / (p.KW * p.KH)) % p.Cin;
  let co = idx / (p.KW * p.KH * p.Cin);
  var s = 0.0;
  for (var n = 0u; n < p.N; n++) {
    for (var oy = 0u; oy < p.Ho; oy++) {
      for (var ox = 0u; ox < p.Wo; ox++) {
        let iy = i32(oy * p.S + ky) - i32(p.P);
        let ix = i32(ox * p.S + kx) - i32(p.P);
        if (iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W)) {
          s += a[((n * p.Cout + co) * p.Ho + oy) * p.Wo + ox] * b[((n * p.Cin + ci) * p.H + u32(iy)) * p.W + u32(ix)];
        }
      }
    }
  }
  out[idx] = s;
}
