// The training corruptions of the two diffusion priors (host side: B·L small integers per step,
// from a seeded generator, so a resumed run draws the same noise).
//  - seed scheme ('diffusion'): x_a replaces a fraction r ~ U(0, 1) of x by uniformly random codes;
//    x_b replaces a further fixed fraction of x_a; the model learns x_a from x_b.
//  - absorbing ('mask'): MaskGIT's cosine schedule: a fraction γ(u) = cos(π·u/2), u ~ U(0, u_max),
//    of positions (⌈γ·L⌉, at least one) is replaced by the mask token; the model predicts the
//    originals there (elsewhere: ignored). u_max = (2/π)·acos(minRatio), so γ ≥ minRatio: the cosine
//    density truncated at the minimum mask ratio (minRatio 0: u ~ U(0, 1), the plain schedule).

export class NoiseRng {
  constructor(public state: number) {}
  /** uniform [0, 1) (mulberry32) */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Replaces each token with probability `frac` by a uniformly random code in [0, K). */
export function replaceRandom(x: Int32Array, frac: number, K: number, rng: NoiseRng): Int32Array {
  const y = Int32Array.from(x);
  for (let i = 0; i < y.length; i++) if (rng.next() < frac) y[i] = rng.int(K);
  return y;
}

/** Seed-scheme pair for a batch [B, L]: per item r ~ U(0,1); returns {xa, xb}. */
export function diffusionPair(x: Int32Array, B: number, K: number, extra: number, rng: NoiseRng): { xa: Int32Array; xb: Int32Array } {
  const L = x.length / B;
  const xa = new Int32Array(x.length), xb = new Int32Array(x.length);
  for (let b = 0; b < B; b++) {
    const r = rng.next();
    const a = replaceRandom(x.subarray(b * L, (b + 1) * L), r, K, rng);
    xa.set(a, b * L);
    xb.set(replaceRandom(a, extra, K, rng), b * L);
  }
  return { xa, xb };
}

export const cosineMaskRate = (u: number) => Math.cos((Math.PI / 2) * u);

/** The training mask rate for u ~ U(0, 1): cos(π/2·u·u_max), in [minRatio, 1], falling in u. */
export function trainingMaskRate(u: number, minRatio = 0): number {
  if (!(minRatio >= 0 && minRatio <= 1)) throw new Error(`minimum mask ratio must be in [0, 1], got ${minRatio}.`);
  if (minRatio === 0) return cosineMaskRate(u); // bit-exact with runs from before the minimum
  const uMax = (2 / Math.PI) * Math.acos(minRatio);
  return Math.max(minRatio, cosineMaskRate(u * uMax));
}

/** Number of masked positions of L for a mask rate: ⌈rate·L⌉, at least one. */
export const maskCount = (rate: number, L: number) => Math.min(L, Math.max(1, Math.ceil(rate * L)));

/**
 * Mask-scheme batch: {input with masks, targets with ignore (-100) where not masked}. minRatio:
 * the minimum mask ratio (each item masks at least ⌈minRatio·L⌉ positions).
 */
export function maskBatch(x: Int32Array, B: number, maskToken: number, rng: NoiseRng, ignore = -100, minRatio = 0): { input: Int32Array; target: Int32Array } {
  const L = x.length / B;
  const input = Int32Array.from(x), target = new Int32Array(x.length).fill(ignore);
  for (let b = 0; b < B; b++) {
    const n = maskCount(trainingMaskRate(rng.next(), minRatio), L);
    // choose n distinct positions: a partial Fisher–Yates shuffle
    const pos = Array.from({ length: L }, (_, i) => i);
    for (let i = 0; i < n; i++) {
      const j = i + rng.int(L - i);
      [pos[i], pos[j]] = [pos[j], pos[i]];
      const p = b * L + pos[i];
      input[p] = maskToken;
      target[p] = x[p];
    }
  }
  return { input, target };
}
