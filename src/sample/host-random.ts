// Seeded host-side uniforms for the samplers' decisions made on the CPU (which positions a
// corrector step re-noises, the given positions' noise), so that a seed fixes a chain.

/** Host uniform [0, 1) (mulberry32). */
export function hostUniform(seed: number): () => number {
  let state = (seed ^ 0x3c6ef372) >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
