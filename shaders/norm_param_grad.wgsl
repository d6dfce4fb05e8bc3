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

//#include norm_affine.wgsl

// silu'(a)·g for the fused activation, a = x̂·wc + bc (identity without it).
fn through_act(gv: f32, xh: f32, wc: f32, bc: f32) -> f32 {
  if (ACT != 1u) { return gv; }
  let a = xh * wc + bc;
  let s = 1.0 / (1.0 + exp(-a));
  return gv * s * (1.0 + a * (1.0 - s));
}

// through_act for 4 values, with their affine maps w and b.
fn through_act4(gv: vec4<f32>, xh: vec4<f32>, w: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  if (ACT != 1u) { return gv; }
  let a = xh * w + b;
  let s = 1.0 / (1.0 + exp(-a));
  return gv * (s * (1.0 + a * (1.0 - s)));
}

// The channel's affine map where the fused activation needs it (a), else the identity.
fn act_params(c: u32) -> vec2<f32> {
  if (ACT == 1u) { return channel_affine(c); }
  return vec2<f32>(1.0, 0.0);
}

// (mean, rstd) of sample n's group of channels
fn sample_stats(n: u32, stat_group: u32) -> vec2<f32> {
  let st = 2u * (n * p.groups + stat_group);
  return vec2<f32>(stats[st], stats[st + 1u]);
}

// The chunk's items in runs of one sample n (positions s0..s1 of channel c): the sample's stats
// are loaded once per run, and no item pays an integer division (llvmpipe scalarises it).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let k = gid.y;
  if (c >= p.c || k >= p.chunks) { return; }
  let stat_group = c / p.cpg;
  let end = min((k + 1u) * p.chunk, p.n * p.s);
  let wb = act_params(c);
  var dw = 0.0;
  var db = 0.0;
  var m = k * p.chunk;
  var n = m / p.s;
  while (m < end) {
    let run_end = min(end, (n + 1u) * p.s);
    let ms = sample_stats(n, stat_group);
    var i = (n * p.c + c) * p.s + (m - n * p.s);
    for (; m < run_end; m++) {
      let xh = (x[i] - ms.x) * ms.y;
      let gv = through_act(g[i], xh, wb.x, wb.y);
      dw += gv * xh;
      db += gv;
      i++;
    }
    n++;
  }
  part[c * p.chunks + k] = dw;
  part[(p.c + c) * p.chunks + k] = db;
}

// main with x and g read as vec4s, where the positions per channel (S) and the chunk are multiples
// of 4 (norm.ts checks): every run is whole vec4s.
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let k = gid.y;
  if (c >= p.c || k >= p.chunks) { return; }
  let stat_group = c / p.cpg;
  let end = min((k + 1u) * p.chunk, p.n * p.s);
  let wb = act_params(c);
  var dw = vec4<f32>(0.0);
  var db = vec4<f32>(0.0);
  var m = k * p.chunk;
  var n = m / p.s;
  while (m < end) {
    let run_end = min(end, (n + 1u) * p.s);
    let ms = sample_stats(n, stat_group);
    var i = ((n * p.c + c) * p.s + (m - n * p.s)) / 4u;
    for (; m < run_end; m += 4u) {
      let xh = (x4[i] - ms.x) * ms.y;
      let gv = through_act4(g4[i], xh, vec4<f32>(wb.x), vec4<f32>(wb.y));
      dw += gv * xh;
      db += gv;
      i++;
    }
    n++;
  }
  part[c * p.chunks + k] = dot(dw, vec4<f32>(1.0));
  part[(p.c + c) * p.chunks + k] = dot(db, vec4<f32>(1.0));
}

// main for layerNorm (S = 1, groups 1) of a multiple of 4 channels: invocation (c4, k) sums channels
// 4·c4 … 4·c4 + 3 over the rows of chunk k, reading x, g (and w, b for the fused SiLU) as vec4s: a
// row costs its two stats and two vec4 loads for 4 channels, not 4 of each. The invocations are one
// flat range, c4 fastest (C/4 is often below a workgroup's 64 lanes).
@group(0) @binding(5) var<storage, read> w4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> b4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main_cols_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let C4 = p.c / 4u;
  let t = gid.x + gid.y * nwg.x * WG;
  let c4 = t % C4;
  let k = t / C4;
  if (k >= p.chunks) { return; }
  let end = min((k + 1u) * p.chunk, p.n);
  var wc = vec4<f32>(1.0);
  var bc = vec4<f32>(0.0);
  if (ACT == 1u) {
    if (HAS_W) { wc = w4[c4]; }
    if (HAS_B) { bc = b4[c4]; }
  }
  var dw = vec4<f32>(0.0);
  var db = vec4<f32>(0.0);
  for (var n = k * p.chunk; n < end; n++) {
    let i = n * C4 + c4;
    let xh = (x4[i] - stats[2u * n]) * stats[2u * n + 1u];
    let gv = through_act4(g4[i], xh, wc, bc);
    dw += gv * xh;
    db += gv;
  }
  for (var j = 0u; j < 4u; j++) {
    part[(4u * c4 + j) * p.chunks + k] = dw[j];
    part[(p.c + 4u * c4 + j) * p.chunks + k] = db[j];
  }
}
