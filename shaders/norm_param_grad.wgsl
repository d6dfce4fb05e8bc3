// Weight and bias gradients of norm.wgsl, deterministically (no float atomics): per channel c,
//   dw[c] = Σ g · x̂,   db[c] = Σ g      over every sample n and position s of that channel,
// viewing x as [N, C, S] (layerNorm: N = rows, C = D, S = 1; groupNorm: S = spatial size).
// Pass 1 (this kernel): invocation (c, k) sums the items m = n·S + s of chunk k, m in
// [k·chunk, (k+1)·chunk), in order, into part[0, c, k] and part[1, c, k]. The op then sums the
// [2·C, chunks] partials along their rows (the row reduction, no transposing copy): a fixed order,
// so results repeat bit-exactly. With the fused SiLU (ACT = 1) g is first taken through it:
// g · silu'(a), a = x̂·w[c] + b[c] recomputed (w and b then bound; otherwise x stands in for them).

struct Params { n: u32, c: u32, s: u32, groups: u32, cpg: u32, chunk: u32, chunks: u32, _p0: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;       // [N·groups, 2]: mean, rstd
@group(0) @binding(4) var<storage, read_write> part: array<f32>;  // [2, C, chunks]
@group(0) @binding(5) var<storage, read> w: array<f32>;
@group(0) @binding(6) var<storage, read> b: array<f32>;

override HAS_W: bool = true;
override HAS_B: bool = true;
override ACT: u32 = 0u;   // 0: none, 1: SiLU after the affine map
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let k = gid.y;
  if (c >= p.c || k >= p.chunks) { return; }
  let stat_group = c / p.cpg;
  let end = min((k + 1u) * p.chunk, p.n * p.s);
  var wc = 1.0;
  var bc = 0.0;
  if (ACT == 1u) {
    if (HAS_W) { wc = w[c]; }
    if (HAS_B) { bc = b[c]; }
  }
  var dw = 0.0;
  var db = 0.0;
  for (var m = k * p.chunk; m < end; m++) {
    let n = m / p.s;
    let i = (n * p.c + c) * p.s + (m - n * p.s);
    let st = 2u * (n * p.groups + stat_group);
    let xh = (x[i] - stats[st]) * stats[st + 1u];
    var gv = g[i];
    if (ACT == 1u) {
      let a = xh * wc + bc;
      let s = 1.0 / (1.0 + exp(-a));
      gv *= s * (1.0 + a * (1.0 - s));
    }
    dw += gv * xh;
    db += gv;
  }
  part[c * p.chunks + k] = dw;
  part[(p.c + c) * p.chunks + k] = db;
}
