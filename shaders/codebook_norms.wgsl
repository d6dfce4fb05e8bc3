// Squared norms of the codebook's rows, the ‖e‖² term of the search scores ‖e‖² − 2 z·e.
//   E: [K, D] → enorm: [K]. One invocation per code; sequential fma over d (deterministic, and
// identical rows give identical norms, which keeps exact ties exact).
// `main_transposed` also writes Et: [D + 1, K4] (K4 = K rounded up to 4, zero columns past K), the
// codebook the subgroup search reads: a lane's 4 codes at dimension d are then one vec4 load
// instead of 4 loads D floats apart (lavapipe loads every storage value lane by lane); row D holds
// the norms, so that a lane's 4 norms are one vec4 load too (side by side, AMD EPYC: +2–3%).

struct Params { K: u32, D: u32, K4: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> E: array<f32>;
@group(0) @binding(2) var<storage, read_write> enorm: array<f32>;
@group(0) @binding(3) var<storage, read_write> Et: array<f32>;

override WG: u32 = 64u;

fn code_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * WG; }

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = code_index(gid, nwg);
  if (k >= p.K) { return; }
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) {
    let e = E[k * p.D + d];
    s = fma(e, e, s);
  }
  enorm[k] = s;
}

// One invocation per column of Et (k < K4): the column, then the norm as `main` computes it
// (binding 2, enorm, unused).
@compute @workgroup_size(WG)
fn main_transposed(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = code_index(gid, nwg);
  if (k >= p.K4) { return; }
  if (k >= p.K) {
    for (var d = 0u; d <= p.D; d++) { Et[d * p.K4 + k] = 0.0; }
    return;
  }
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) {
    let e = E[k * p.D + d];
    s = fma(e, e, s);
    Et[d * p.K4 + k] = e;
  }
  Et[p.D * p.K4 + k] = s;
}
