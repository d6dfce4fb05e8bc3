// Squared norms of the codebook's rows, the ‖e‖² term of the search scores ‖e‖² − 2 z·e.
//   E: [K, D] → enorm: [K]. One invocation per code; sequential fma over d (deterministic, and
// identical rows give identical norms, which keeps exact ties exact).

struct Params { K: u32, D: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> E: array<f32>;
@group(0) @binding(2) var<storage, read_write> enorm: array<f32>;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  if (k >= p.K) { return; }
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) {
    let e = E[k * p.D + d];
    s = fma(e, e, s);
  }
  enorm[k] = s;
}
