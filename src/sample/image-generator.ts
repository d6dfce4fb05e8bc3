// The library's image generator (browser-safe): a trained tokenizer and prior, loaded from the
// checkpoint files the CLI writes, behind three calls — `ImageGenerator.load`, `sample`, `dispose`. It is
// the CLI's `vqgpu sample` without a figure: the same class draws, guidance defaults and samplers
// (src/sample/draw-from-prior.ts), so the same seed gives the same tokens as
// `vqgpu sample --prior P --seed S`. Node reads run folders with `loadGenerator` (vqgpu/node); a
// page fetches the two checkpoint files and calls `ImageGenerator.load`.
//
//   tokens i32 [n, G·G] (row-major grids of codes) → images f32 [n, 3, S, S] in [-1, 1]

import { classBlocks, classFrequencies, classNames, conditionTokens, drawClasses, guidanceOf } from '../models/prior/classes.js';
import { kindLabel } from '../models/prior/config.js';
import type { Prior } from '../models/prior/prior.js';
import { decodeTokens } from '../models/tokenizer/decode-tokens.js';
import type { TokenizerState } from '../models/tokenizer/state.js';
import { checkPriorMatchesTokenizer, parseCheckpoint, priorFromCheckpoint, tokenizerFromCheckpoint } from '../io/run-loader.js';
import { imageGrid, type Canvas } from '../data/figure.js';
import { checkGuidance } from './guidance.js';
import { drawTokens } from './draw-from-prior.js';
import { DIFFUSION_SAMPLER_DEFAULTS } from './diffusion.js';

export interface SampleOptions {
  /** how many images (default 9) */
  n?: number;
  /**
   * Class-conditional priors: a class name (or a unique prefix of one, or an index) for every image,
   * or a list splitting the n images evenly in that order. Default: each image's class drawn from
   * the training split's class frequencies.
   */
  class?: string | number | (string | number)[];
  /** classifier-free guidance scale S (1: plain conditional); default: the prior kind's measured best */
  cfg?: number;
  /** sampling temperature (default 1; diffusion: of the first step) */
  temperature?: number;
  /** keep the k most likely codes (0: all; default 0) */
  topK?: number;
  /** nucleus probability (1: all; default 1) */
  topP?: number;
  /** diffusion and mask priors: denoising steps (default DIFFUSION_SAMPLER_DEFAULTS.steps, 32) */
  steps?: number;
  /** random seed (default 0) */
  seed?: number;
}

export interface Samples {
  /** [n, G·G] codes, row-major */
  tokens: Int32Array;
  /** [n, 3, S, S] in [-1, 1] */
  images: Float32Array;
  /** the class index of each image (−1: unconditional) */
  labels: Int32Array;
  n: number;
  /** image side S in pixels */
  size: number;
}

/** A tokenizer and a prior trained for it: new images from the prior's token grids. */
export class ImageGenerator {
  private constructor(readonly tokenizer: TokenizerState, readonly prior: Prior) {}

  /**
   * The generator of two checkpoint files (the bytes of a tokenizer's and a prior's `ckpt-*.safetensors`,
   * f32 or f16). Throws, naming the file, when either is not such a checkpoint or the prior was
   * trained for another codebook or grid. Call `init()` first.
   */
  static load(tokenizerBytes: Uint8Array, priorBytes: Uint8Array, names = { tokenizer: 'tokenizer', prior: 'prior' }): ImageGenerator {
    const tk = parseCheckpoint(tokenizerBytes, names.tokenizer);
    const pk = parseCheckpoint(priorBytes, names.prior);
    if (tk.kind === 'prior' && pk.kind === 'tokenizer') throw new Error(`${names.tokenizer} is a prior and ${names.prior} a tokenizer: swap them.`);
    const tokenizer = tokenizerFromCheckpoint(tk);
    try {
      return ImageGenerator.fromModels(tokenizer, priorFromCheckpoint(pk), names);
    } catch (e) {
      tokenizer.dispose();
      throw e;
    }
  }

  /** The generator of models already loaded; it owns them from here on (`dispose` frees both). */
  static fromModels(tokenizer: TokenizerState, prior: Prior, names = { tokenizer: 'tokenizer', prior: 'prior' }): ImageGenerator {
    try {
      checkPriorMatchesTokenizer(prior.config, names.prior, tokenizer.config, names.tokenizer);
    } catch (e) {
      prior.dispose();
      throw e;
    }
    tokenizer.eval();
    prior.eval();
    return new ImageGenerator(tokenizer, prior);
  }

  /** The prior's classes by name ([] for an unconditional prior). */
  get classes(): string[] {
    return this.prior.config.classes > 0 ? classNames(this.prior.config) : [];
  }

  /** e.g. "class-conditional AR" */
  get description(): string {
    const c = this.prior.config;
    return `${c.classes > 0 ? 'class-conditional ' : ''}${kindLabel(c)} prior, ${c.transformer.layers} × ${c.transformer.dim}, ${c.grid}×${c.grid} tokens of ${c.codebook} codes → ${this.size}×${this.size} px`;
  }

  /** image side in pixels */
  get size(): number {
    return this.tokenizer.config.size;
  }

  /** n new token grids and their images. */
  async sample(o: SampleOptions = {}): Promise<Samples> {
    const n = o.n ?? 9, seed = o.seed ?? 0;
    if (!Number.isInteger(n) || n < 1) throw new Error(`sample: n must be a positive integer, got ${n}.`);
    const c = this.prior.config;
    let labels: Int32Array = new Int32Array(n).fill(-1);
    if (c.classes > 0) {
      const names = classNames(c);
      if (o.class !== undefined) labels = classBlocks((Array.isArray(o.class) ? o.class : [o.class]).map(String), n, names);
      else labels = drawClasses(classFrequencies(c).counts, n, seed);
    } else if (o.class !== undefined || o.cfg !== undefined) {
      throw new Error(`sample: class and cfg need a class-conditional prior; this one is unconditional.`);
    }
    const guidance = guidanceOf(c, o.cfg);
    if (guidance) checkGuidance(guidance);
    const { tokens } = await drawTokens(this.prior, n, {
      start: conditionTokens(c, labels), guidance, temperature: o.temperature ?? 1, topK: o.topK ?? 0, topP: o.topP ?? 1, seed, steps: o.steps ?? DIFFUSION_SAMPLER_DEFAULTS.steps,
    });
    const images = await decodeTokens(this.tokenizer.vqvae, tokens, n);
    return { tokens, images, labels, n, size: this.size };
  }

  /** The samples as one RGBA picture, `cols` per row (default: a square), each image scaled ×`scale`. */
  static grid(s: Samples, cols = Math.ceil(Math.sqrt(s.n)), scale = Math.max(1, Math.round(64 / s.size))): Canvas {
    return imageGrid(s.images, s.n, s.size, cols, 2, scale);
  }

  /** Frees the models' GPU buffers. */
  dispose(): void {
    this.tokenizer.dispose();
    this.prior.dispose();
  }
}
