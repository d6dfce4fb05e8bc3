// Cross-entropy, the deterministic reduction over rows (after xent.wgsl): one workgroup sums the
// per-row losses [rows] and counts the rows whose target is not ignore_index, lane by lane in a
// fixed order and then by a fixed tree, so the result is bitwise reproducible (no atomics).
//   out[0]  = Σ loss / count (MEAN; 0 when count = 0) or Σ loss
//   norm[0] = 1 / count (MEAN; 0 when count = 0) or 1: the backward pass's factor per unit of
//             upstream gradient, kept on the GPU so that nothing is read back.

struct Params { rows: u32, ignore_index: i32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> loss: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> norm: array<f32>;

override MEAN: bool = true;
override WG: u32 = 64u;

var<workgroup> sums: array<f32, WG>;
var<workgroup> counts: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let lane = lid.x;
  var s = 0.0;
  var c = 0u;
  for (var r = lane; r < p.rows; r += WG) {
    s += loss[r];
    c += select(1u, 0u, targets[r] == p.ignore_index);
  }
  sums[lane] = s;
  counts[lane] = c;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lane < h) {
      sums[lane] += sums[lane + h];
      counts[lane] += counts[lane + h];
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    let total = sums[0];
    let n = counts[0];
    if (MEAN) {
      let inv = select(0.0, 1.0 / f32(n), n > 0u);
      out[0] = select(0.0, total * inv, n > 0u);
      norm[0] = inv;
    } else {
      out[0] = total;
      norm[0] = 1.0;
    }
  }
}
