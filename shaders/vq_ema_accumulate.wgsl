// EMA codebook update, pass 1 of 2 (van den Oord et al. 2017, appendix A.1), one invocation per code:
//   N_k ← d·N_k + (1−d)·count_k        m_k ← d·m_k + (1−d)·sum_k
// count/sum are this batch's per-code statistics from the nearest-codebook kernel. Deterministic.

struct Params { K: u32, D: u32, decay: f32, _p: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> counts: array<f32>;        // [K]
@group(0) @binding(2) var<storage, read> sums: array<f32>;          // [K, D]
@group(0) @binding(3) var<storage, read_write> ema_n: array<f32>;   // [K]
@group(0) @binding(4) var<storage, read_write> ema_m: array<f32>;   // [K, D]
@group(0) @binding(5) var<storage, read> gate: array<f32>;          // [1] the optimizer's step factor: 0 = step skipped

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  if (k >= p.K || gate[0] == 0.0) { return; }   // a skipped (non-finite) step leaves the codebook alone
  ema_n[k] = p.decay * ema_n[k] + (1.0 - p.decay) * counts[k];
  for (var d = 0u; d < p.D; d++) {
    let i = k * p.D + d;
    ema_m[i] = p.decay * ema_m[i] + (1.0 - p.decay) * sums[i];
  }
}
