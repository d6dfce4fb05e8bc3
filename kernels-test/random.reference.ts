// Plain TypeScript reference for random.wgsl: Philox-4x32-10 (BigInt products, for clarity).

function mulhilo(a: number, b: number): [number, number] {
  const p = BigInt(a >>> 0) * BigInt(b >>> 0);
  return [Number(p >> 32n), Number(p & 0xffffffffn)];
}

/** Philox-4x32-10 of counter (4 words) under key (2 words). */
export function philox(ctr: readonly number[], key: readonly number[]): number[] {
  let [c0, c1, c2, c3] = ctr.map((v) => v >>> 0);
  let [k0, k1] = key.map((v) => v >>> 0);
  for (let round = 0; round < 10; round++) {
    const [hi0, lo0] = mulhilo(0xd2511f53, c0);
    const [hi1, lo1] = mulhilo(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** The n words that randBits draws for a generator at (seed, counter). */
export function philoxStream(seed: number, counter: number, n: number): Uint32Array {
  const out = new Uint32Array(n);
  const key = [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
  for (let q = 0; q * 4 < n; q++) {
    const c = counter + q;
    const words = philox([c % 2 ** 32, Math.floor(c / 2 ** 32), 0, 0], key);
    for (let k = 0; k < 4 && 4 * q + k < n; k++) out[4 * q + k] = words[k];
  }
  return out;
}

/**
 * Gumbel-max samples of sampleCategorical for a generator at (seed, counter): row r, column j
 * uses word j mod 4 of block counter + r·⌈len/4⌉ + ⌊j/4⌋. Scores in float64 (the GPU's are f32:
 * near-ties may differ, vanishingly rarely for continuous random logits).
 */
export function categoricalRef(logits: Float32Array, rows: number, len: number, seed: number, counter: number, temperature: number): Int32Array {
  const qn = Math.ceil(len / 4);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const words = philoxStream(seed, counter + r * qn, 4 * qn);
    let best = -Infinity;
    for (let j = 0; j < len; j++) {
      const u = ((words[j] >>> 8) + 0.5) / 16777216;
      const s = logits[r * len + j] / temperature - Math.log(-Math.log(u));
      if (s > best) (best = s), (out[r] = j);
    }
  }
  return out;
}
