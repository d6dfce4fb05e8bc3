// The tokenizer's one typed config. It is saved inside every checkpoint (safetensors metadata), so
// the checkpoint file alone rebuilds the model.

export interface QuantizerConfig {
  /** commitment weight β (on the encoder side) */
  beta: number;
  /** EMA codebook updates (true) or a learned codebook with the codebook loss (false) */
  ema: boolean;
  /** EMA decay */
  decay: number;
  /** Laplace smoothing of the EMA counts */
  eps: number;
  /** l2-normalise encoder outputs and codes before the search */
  l2norm: boolean;
  /** codes whose EMA count falls below this fraction of the mean count restart from encoder outputs */
  restartBelow: number;
  /** how the decoder's gradient reaches the encoder (quantizer.ts); absent in older checkpoints: 'ste' */
  estimator?: 'ste' | 'rotation';
}

export interface DiscriminatorConfig {
  /** channels of the first layer (doubling per layer) */
  width: number;
  /** strided 4×4 layers */
  layers: number;
}

export interface TokenizerConfig {
  kind: 'vqgpu-tokenizer';
  version: 1;
  /** image side in pixels */
  size: number;
  /** token grid side: size / grid must be a power of two */
  grid: number;
  /** number of codes K */
  codebook: number;
  /** code dimension D */
  codeDim: number;
  /** channels of the first level; level i has width·mult[i] */
  width: number;
  mult: number[];
  /** residual blocks per level */
  resBlocks: number;
  /** group-norm groups */
  groups: number;
  /**
   * side of the pixel patches folded into channels before the first convolution (and unfolded after
   * the last): the convolutions run at size/patch, 1/patch² of the pixels; absent: 1
   */
  patch?: number;
  /**
   * The encoder's own width and residual blocks per level (absent: `width`, `resBlocks`). Picking
   * one of K codes per token can need less than drawing the pixels back: the decoder can be larger.
   */
  encoderWidth?: number;
  encoderResBlocks?: number;
  /** residual blocks at the token grid in the middle of the encoder and of the decoder; absent: 1 */
  midBlocks?: number;
  /** their width is width·midMult; absent: the last level's multiplier */
  midMult?: number;
  /** a self-attention block after the middle residual block of the encoder and of the decoder
   * (VQGAN's non-local block, at the token grid); absent in older checkpoints: off */
  attention?: boolean;
  quantizer: QuantizerConfig;
  disc: DiscriminatorConfig;
}

export function defaultTokenizerConfig(o: Partial<TokenizerConfig> & { size: number; grid: number; codebook: number }): TokenizerConfig {
  const levels = Math.log2(o.size / o.grid);
  if (!Number.isInteger(levels) || levels < 1) {
    throw new Error(`--size ${o.size} / --grid ${o.grid} must be a power of two ≥ 2 (e.g. --size 32 --grid 8).`);
  }
  const patch = o.patch ?? 1;
  const convLevels = levels - Math.log2(patch);
  if (!Number.isInteger(Math.log2(patch)) || convLevels < 1) {
    throw new Error(`--patch ${patch} must be a power of two below --size ${o.size} / --grid ${o.grid} = ${o.size / o.grid} (e.g. --patch 2).`);
  }
  if (!Number.isInteger(o.codebook) || o.codebook < 2 || o.codebook > 65536) {
    throw new Error(`--codebook must be an integer in [2, 65536] (tokens are stored as uint16), got ${o.codebook}.`);
  }
  if (o.midBlocks !== undefined && !(Number.isInteger(o.midBlocks) && o.midBlocks >= 1)) {
    throw new Error(`--mid-blocks must be an integer ≥ 1 (the first one also changes the width to the middle's), got ${o.midBlocks}.`);
  }
  const mult = o.mult ?? Array.from({ length: convLevels }, (_, i) => Math.min(2 ** i, 4));
  if (mult.length !== convLevels) {
    const by = patch > 1 ? ` after the ${patch}×${patch} patches` : '';
    throw new Error(`--mult has ${mult.length} entries; --size ${o.size} → --grid ${o.grid} halves the side ${convLevels} times${by} and needs one each.`);
  }
  // Every level's width must split into the group norms' groups (min(groups, width) of them).
  const groups = o.groups ?? 8;
  const width = o.width ?? 32;
  const midMult = o.midMult ?? mult[mult.length - 1];
  for (const [flag, w] of [['--width', width], ['--enc-width', o.encoderWidth]] as const) {
    if (w === undefined) continue;
    const bad = [...mult, midMult].map((m) => w * m).find((c) => c % Math.min(groups, c) !== 0);
    if (bad !== undefined) throw new Error(`${flag} ${w}: a level of ${bad} channels does not split into ${groups} group-norm groups; use a multiple of ${groups}.`);
  }
  return {
    kind: 'vqgpu-tokenizer',
    version: 1,
    size: o.size,
    grid: o.grid,
    codebook: o.codebook,
    codeDim: o.codeDim ?? 32,
    width,
    mult,
    resBlocks: o.resBlocks ?? 1,
    groups,
    patch,
    ...(o.encoderWidth !== undefined ? { encoderWidth: o.encoderWidth } : {}),
    ...(o.encoderResBlocks !== undefined ? { encoderResBlocks: o.encoderResBlocks } : {}),
    attention: o.attention ?? false,
    midBlocks: o.midBlocks ?? 1,
    midMult,
    quantizer: { beta: 0.25, ema: true, decay: 0.99, eps: 1e-5, l2norm: false, restartBelow: 0.03, estimator: 'ste', ...o.quantizer },
    disc: { width: 32, layers: 2, ...o.disc },
  };
}

export function checkTokenizerConfig(c: unknown, source: string): TokenizerConfig {
  const t = c as TokenizerConfig;
  if (!t || t.kind !== 'vqgpu-tokenizer') {
    const kind = (c as { kind?: string } | null)?.kind ?? 'unknown';
    throw new Error(`${source} is not a tokenizer checkpoint (its config says kind '${kind}', expected 'vqgpu-tokenizer').`);
  }
  if (t.version !== 1) throw new Error(`${source}: tokenizer config version ${t.version} is not supported (expected 1).`);
  return t;
}

/**
 * Bytes of the largest activation one image makes in the encoder or the decoder (f32): at level i
 * (side size/patch/2^i) the wider of its own channels and those upsampled into it from below. A
 * device binds at most `maxStorageBufferBindingSize` bytes per buffer (128 MiB on lavapipe), so an
 * inference batch keeps n times this under that limit (`inferenceBatch`).
 */
export function largestActivationBytes(c: TokenizerConfig): number {
  const side0 = c.size / (c.patch ?? 1);
  const widest = Math.max(c.width, c.encoderWidth ?? c.width);
  const midMult = c.midMult ?? c.mult[c.mult.length - 1];
  let m = 3 * c.size * c.size;
  for (let i = 0; i < c.mult.length; i++) {
    const below = i + 1 < c.mult.length ? c.mult[i + 1] : midMult;
    m = Math.max(m, widest * Math.max(c.mult[i], below) * (side0 / 2 ** i) ** 2);
  }
  return 4 * m;
}

/** The largest batch ≤ `requested` whose activations each fit one binding of `maxBindingBytes` (at least 1). */
export function inferenceBatch(c: TokenizerConfig, requested: number, maxBindingBytes: number): number {
  return Math.max(1, Math.min(requested, Math.floor(maxBindingBytes / largestActivationBytes(c))));
}
