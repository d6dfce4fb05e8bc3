// Prepares logits for sampling, one workgroup per row: y = x / temperature, then keeps the top-k
// values and the smallest top set holding probability ≥ top_p (nucleus), setting the rest to −∞
// (a large negative). No sort: each threshold is found by bisection over the order-preserving u32
// key of the f32 values (32 halvings pin it to an exact value of the row whatever the range, so
// already-masked logits like −1e30 do not blur it); each halving is one strided pass over the row
// and a workgroup reduction. Ties at the threshold are all kept.

struct Params { rows: u32, V: u32, top_k: u32, _p: u32, inv_temp: f32, top_p: f32, _q: u32, _r: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const WG: u32 = 64u;
const NEG: f32 = -3.0e38;
const HALVINGS: u32 = 32u;

var<workgroup> red: array<f32, WG>;

// Order-preserving map f32 → u32: a < b ⇔ key(a) < key(b) (−0 is folded onto +0 so that they tie).
fn key(v: f32) -> u32 {
  var b = bitcast<u32>(v);
  if (b == 0x80000000u) { b = 0u; }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn reduce_sum(v: f32, t: u32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] += red[t + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduce_max(v: f32, t: u32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] = max(red[t], red[t + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;   // uniform per workgroup: every barrier below is reached by all invocations
  let t = lid.x;
  let valid = row < p.rows;
  let base = select(0u, row * p.V, valid);
  let n = select(0u, p.V, valid);
  var lo = 3.0e38;
  var hi = -3.0e38;
  for (var i = t; i < n; i += WG) {
    let v = x[base + i] * p.inv_temp;
    lo = min(lo, v);
    hi = max(hi, v);
  }
  let vmax = reduce_max(hi, t);
  let vmin = -reduce_max(-lo, t);
  // Largest key t with count(key ≥ t) ≥ k, or mass(key ≥ t) ≥ top_p · mass(kept): the interval [a, b]
  // holds it; a fixed number of halvings (a no-op once a == b) keeps every barrier in uniform control flow.
  var thresh = key(vmin);

  // top-k: the largest t with count(v ≥ t) ≥ k.
  if (p.top_k > 0u && p.top_k < p.V) {
    var a = thresh;
    var b = key(vmax);
    for (var it = 0u; it < HALVINGS; it++) {
      let mid = a + (b - a) / 2u + ((b - a) & 1u);   // ⌈(a + b) / 2⌉ without overflow
      var c = 0.0;
      for (var i = t; i < n; i += WG) { c += select(0.0, 1.0, key(x[base + i] * p.inv_temp) >= mid); }
      if (reduce_sum(c, t) >= f32(p.top_k)) { a = mid; } else { b = mid - 1u; }
    }
    thresh = a;
  }

  // top-p over what top-k kept: the largest t with mass(v ≥ t) ≥ top_p · mass(kept).
  if (p.top_p < 1.0) {
    var z = 0.0;
    for (var i = t; i < n; i += WG) {
      let v = x[base + i] * p.inv_temp;
      z += select(0.0, exp(v - vmax), key(v) >= thresh);
    }
    let total = reduce_sum(z, t);
    var a = thresh;
    var b = key(vmax);
    for (var it = 0u; it < HALVINGS; it++) {
      let mid = a + (b - a) / 2u + ((b - a) & 1u);   // ⌈(a + b) / 2⌉ without overflow
      var m = 0.0;
      for (var i = t; i < n; i += WG) {
        let v = x[base + i] * p.inv_temp;
        m += select(0.0, exp(v - vmax), key(v) >= mid);
      }
      if (reduce_sum(m, t) >= p.top_p * total) { a = mid; } else { b = mid - 1u; }
    }
    thresh = a;
  }

  for (var i = t; i < n; i += WG) {
    let v = x[base + i] * p.inv_temp;
    y[base + i] = select(NEG, v, key(v) >= thresh);
  }
}
