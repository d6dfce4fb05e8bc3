// EMA codebook update, pass 2 of 2, one invocation per code, after n = Σ_k N_k (reduce op):
//   E_k ← m_k / Ñ_k, Laplace-smoothed Ñ_k = (N_k + ε) / (n + K·ε) · n.
// Dead-code restart (when `restart` = 1): a code with N_k < restart_below · n/K (a fraction of the
// mean count: the scale of N follows the batch size) moves to an encoder output
// of this batch, z[hash(k, seed) mod M], with N_k ← 1 and m_k ← that vector, so it competes again.

struct Params {
  K: u32, D: u32, M: u32, restart: u32,
  eps: f32, restart_below: f32, seed: u32, _p: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;             // [M, D]
@group(0) @binding(2) var<storage, read> total: array<f32>;         // [1] n
@group(0) @binding(3) var<storage, read_write> ema_n: array<f32>;   // [K]
@group(0) @binding(4) var<storage, read_write> ema_m: array<f32>;   // [K, D]
@group(0) @binding(5) var<storage, read_write> E: array<f32>;       // [K, D]
@group(0) @binding(6) var<storage, read> gate: array<f32>;          // [1] 0 = step skipped

override WG: u32 = 64u;

fn hash(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u; h *= 0x7feb352du;
  h ^= h >> 15u; h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  if (k >= p.K || gate[0] == 0.0) { return; }
  let n = total[0];
  if (p.restart == 1u && ema_n[k] < p.restart_below * n / f32(p.K)) {
    let row = hash(hash(k) ^ p.seed) % p.M;
    for (var d = 0u; d < p.D; d++) {
      let v = z[row * p.D + d];
      E[k * p.D + d] = v;
      ema_m[k * p.D + d] = v;
    }
    ema_n[k] = 1.0;
    return;
  }
  let smoothed = (ema_n[k] + p.eps) / (n + f32(p.K) * p.eps) * n;
  for (var d = 0u; d < p.D; d++) {
    E[k * p.D + d] = ema_m[k * p.D + d] / smoothed;
  }
}
