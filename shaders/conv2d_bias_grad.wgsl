// 2-D convolution, gradient with respect to the bias, first pass: partial sums of the dense NCHW
// output gradient g [N, Cout, HW] over chunks of each (n, co) plane, written channel-major:
//   part[co, n·chunks + c] = Σ_{i in chunk c} g[n, co, i]
// conv2d.ts then sums each row of part [Cout, N·chunks] (reduceRows), so the result is
// deterministic. Reading the planes where they are avoids the permute + copy of a generic sum
// over axes (0, 2, 3), which moved the whole gradient once more. One invocation per (co, n, c):
// each streams a contiguous run of its plane; chunks exist only to give small layers enough
// invocations to fill the device.

struct Params {
  N: u32, Cout: u32, HW: u32, chunks: u32,   // g: [N, Cout, HW]; chunks per plane
  chunk_len: u32, total: u32, _p0: u32, _p1: u32,  // elements per chunk; Cout·N·chunks
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;   // [Cout, N·chunks]

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;   // = co·(N·chunks) + n·chunks + c
  if (t >= p.total) { return; }
  let per_co = p.N * p.chunks;
  let co = t / per_co;
  let n = (t % per_co) / p.chunks;
  let c = t % p.chunks;
  let i0 = c * p.chunk_len;
  let i1 = min(p.HW, i0 + p.chunk_len);
  let base = (n * p.Cout + co) * p.HW;
  var s = 0.0;
  for (var i = i0; i < i1; i++) { s += g[base + i]; }
  part[t] = s;
}
