// Counter-based random numbers: Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC 2011). Block q of a call is philox((ctr + q) as a 64-bit counter, 0, 0; key):
// four independent 32-bit words, a pure function of (seed, counter), so results do not depend on
// the schedule or the device. The generator (src/ops/random.ts) hands each call fresh counters.
//   fill:              element i takes word i mod 4 of block i / 4 (normal: Box–Muller on pairs)
//   categorical_*:     Gumbel-max sampling, row r, column j takes word j mod 4 of block
//                      r·⌈len/4⌉ + j / 4; two schedules (thread per row, workgroup per row)
//                      that give identical samples.

struct Params {
  n: u32, ctr_lo: u32, ctr_hi: u32, key_lo: u32,
  key_hi: u32, a: f32, b: f32, range: u32,      // fill: OP arguments (see `value`)
  rows: u32, len: u32, inv_temp: f32, _p0: u32, // categorical: logits [rows, len] / temperature
}

@group(0) @binding(0) var<uniform> p: Params;
// fill writes 32-bit words (f32 results as bits: a store never reinterprets integers as floats)
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
// categorical reads logits and writes i32 samples (binding 1 is per entry point)
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> samples: array<i32>;

override OP: u32 = 0u;   // fill: 0 raw bits, 1 uniform [a, b), 2 normal (mean a, std b), 3 int [0, range), 4 bernoulli (b with probability a, else 0)
override WG: u32 = 64u;

// 32 × 32 → 64-bit product as (hi, lo), from 16-bit halves (WGSL has no wide multiply).
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = ((a0 * b0) >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>(a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u), a * b);
}

fn philox(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = ctr;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let m0 = mulhilo(0xD2511F53u, c.x);
    let m1 = mulhilo(0xCD9E8D57u, c.z);
    c = vec4<u32>(m1.x ^ c.y ^ k.x, m1.y, m0.x ^ c.w ^ k.y, m0.y);
    k += vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}

// Block q of this call.
fn block(q: u32) -> vec4<u32> {
  let lo = p.ctr_lo + q;
  let hi = p.ctr_hi + select(0u, 1u, lo < q);   // carry
  return philox(vec4<u32>(lo, hi, 0u, 0u), vec2<u32>(p.key_lo, p.key_hi));
}

// Uniform in [0, 1) with 24 bits (every value exactly representable).
fn unit(w: u32) -> f32 { return f32(w >> 8u) * (1.0 / 16777216.0); }

const TWO_PI: f32 = 6.283185307179586;

fn values(r: vec4<u32>) -> vec4<u32> {
  switch OP {
    case 1u: {
      let u = vec4<f32>(unit(r.x), unit(r.y), unit(r.z), unit(r.w));
      return bitcast<vec4<u32>>(p.a + (p.b - p.a) * u);
    }
    case 2u: {
      // Box–Muller on (x, y) and (z, w): radius from u1 in (0, 1], angle from u2.
      let u1 = (vec2<f32>(f32(r.x >> 8u), f32(r.z >> 8u)) + 1.0) * (1.0 / 16777216.0);
      let th = TWO_PI * vec2<f32>(unit(r.y), unit(r.w));
      let rad = sqrt(-2.0 * log(u1)) * p.b;
      return bitcast<vec4<u32>>(vec4<f32>(rad.x * cos(th.x), rad.x * sin(th.x), rad.y * cos(th.y), rad.y * sin(th.y)) + p.a);
    }
    case 3u: {
      // ⌊w · range / 2³²⌋: bias below range / 2³² per value
      return vec4<u32>(mulhilo(r.x, p.range).x, mulhilo(r.y, p.range).x, mulhilo(r.z, p.range).x, mulhilo(r.w, p.range).x);
    }
    case 4u: {
      let u = vec4<f32>(unit(r.x), unit(r.y), unit(r.z), unit(r.w));
      return bitcast<vec4<u32>>(select(vec4<f32>(0.0), vec4<f32>(p.b), u < vec4<f32>(p.a)));
    }
    default: { return r; }
  }
}

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let q = gid.x + gid.y * nwg.x * WG;
  let i0 = 4u * q;
  if (i0 >= p.n) { return; }
  let v = values(block(q));
  for (var k = 0u; k < 4u && i0 + k < p.n; k++) { out[i0 + k] = v[k]; }
}

// ---------------------------------------------------------------- categorical (Gumbel-max)

// argmax_j (logit_j / T + G_j) with G_j = −log(−log u_j) is a sample of softmax(logits / T).
fn gumbel(w: u32) -> f32 { return -log(-log((f32(w >> 8u) + 0.5) * (1.0 / 16777216.0))); }

struct Best { score: f32, col: u32 }   // col 0xffffffff: none yet

// b wins over a: the higher score; ties (and an unset a) go to the lower column.
fn better(b: Best, a: Best) -> bool {
  return b.col != 0xffffffffu && (a.col == 0xffffffffu || b.score > a.score || (b.score == a.score && b.col < a.col));
}

// Best column of row r among 4q..4q+3 for q = q0, q0 + step, ...
fn scan_row(r: u32, q0: u32, step: u32) -> Best {
  let qn = (p.len + 3u) / 4u;
  var best = Best(0.0, 0xffffffffu);
  for (var q = q0; q < qn; q += step) {
    let rnd = block(r * qn + q);
    for (var k = 0u; k < 4u; k++) {
      let j = 4u * q + k;
      if (j < p.len) {
        let c = Best(logits[r * p.len + j] * p.inv_temp + gumbel(rnd[k]), j);
        if (better(c, best)) { best = c; }
      }
    }
  }
  return best;
}

@compute @workgroup_size(WG)
fn categorical_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  samples[r] = i32(scan_row(r, 0u, 1u).col);
}

var<workgroup> red: array<Best, WG>;

@compute @workgroup_size(WG)
fn categorical_group(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;   // uniform over the workgroup
  let t = lid.x;
  red[t] = scan_row(min(r, p.rows - 1u), t, WG);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s && better(red[t + s], red[t])) { red[t] = red[t + s]; }
    workgroupBarrier();
  }
  if (t == 0u && r < p.rows) { samples[r] = i32(red[0].col); }
}
