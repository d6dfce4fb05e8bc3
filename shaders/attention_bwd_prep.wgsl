// Prologue of the one-pass attention backward (attention_bwd.wgsl), one invocation per row:
//   D_i = dO_i · O_i for every query row (rowsum(dO ⊙ O), the softmax backward's correction), and
//   zeroed dQ, dK, dV rows, which the pairs of the diagonal schedule then accumulate into.

struct Params {
  heads: u32,
  tq: u32,
  tk: u32,
  d4: u32,          // head dim / 4
  d_off: u32,       // D's offset in dQ's buffer, in floats (it follows dQ there: heads·tq·D)
  groups_x: u32,    // workgroups along x (the grid may wrap into y)
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> O: array<vec4<f32>>;    // [heads, tq, D/4]
@group(0) @binding(2) var<storage, read> dO: array<vec4<f32>>;   // [heads, tq, D/4]
@group(0) @binding(3) var<storage, read_write> dQD: array<f32>;   // dQ [heads, tq, D], then D [heads, tq] at d_off
@group(0) @binding(4) var<storage, read_write> dK: array<vec4<f32>>;   // [heads, tk, D/4]
@group(0) @binding(5) var<storage, read_write> dV: array<vec4<f32>>;   // [heads, tk, D/4]

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // Row `row` of the longer of [heads, tq] and [heads, tk].
  let row = (wid.y * p.groups_x + wid.x) * WG + lid.x;
  let h = row / max(p.tq, p.tk);
  let t = row % max(p.tq, p.tk);
  if (h >= p.heads) { return; }
  if (t < p.tq) {
    let base = (h * p.tq + t) * p.d4;
    var dsum = 0.0;
    for (var c = 0u; c < p.d4; c++) {
      dsum += dot(dO[base + c], O[base + c]);
      for (var e = 0u; e < 4u; e++) { dQD[4u * (base + c) + e] = 0.0; }
    }
    dQD[p.d_off + h * p.tq + t] = dsum;
  }
  if (t < p.tk) {
    let base = (h * p.tk + t) * p.d4;
    for (var c = 0u; c < p.d4; c++) {
      dK[base + c] = vec4<f32>(0.0);
      dV[base + c] = vec4<f32>(0.0);
    }
  }
}
