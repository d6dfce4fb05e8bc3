// The diffusion/mask half of `vqgpu sample`: runs the sampler, decodes the recorded steps, and
// writes a GIF of the reverse process (first frame: the random tokens decoded) or a PNG strip of
// the 3×3 grid at chosen steps followed by the final grid (the seed's Figs. 5–7). Masked positions
// of the mask prior are drawn as grey cells.

import type { Canvas } from '../../data/figure.js';
import { joinPanels } from '../../data/figure.js';
import { maskToken, type PriorConfig } from '../../models/prior/config.js';
import type { Prior } from '../../models/prior/prior.js';
import type { VQVAE } from '../../models/tokenizer/vqvae.js';
import { DIFFUSION_SAMPLER_DEFAULTS, MASK_CHOICE_TEMPERATURE, type DiffusionSampleOptions } from '../../sample/diffusion.js';
import { D3PM_SAMPLER_DEFAULTS } from '../../sample/d3pm.js';
import type { FlagSpec } from '../../io/flags.js';
import type { GuidanceOptions } from '../../sample/guidance.js';
import { drawTokens } from '../../sample/draw-from-prior.js';
import { writeGif, writePng } from '../write-image.js';
import { gridOf, type Completion } from './sample.js';
import { decodeTokens } from '../../models/tokenizer/decode-tokens.js';

const D = DIFFUSION_SAMPLER_DEFAULTS;

/** The sampler flags of `vqgpu sample` and `vqgpu compare` beyond --steps and --temperature. */
export const DIFFUSION_SAMPLER_FLAGS: Record<string, FlagSpec> = {
  'temperature-end': { type: 'number', help: `diffusion (seed scheme): temperature of the last step; it falls geometrically from --temperature (default ${D.temperatureEnd}; = --temperature: constant)`, above: 0 },
  'change-fraction': { type: 'number', help: `diffusion (seed scheme): at most this fraction of positions changes per step, the most confident changes (1: all, the seed's) (default ${D.changeFraction})`, min: 0, max: 1 },
  'min-steps': { type: 'int', help: `diffusion (seed scheme): a step that changes nothing ends the chain only from this step on (default ${D.minSteps}, capped at --steps)`, min: 1 },
  'final-argmax': { type: 'boolean', help: `diffusion: end with one argmax evaluation (d3pm: the last step, to t = 0, takes the argmax of x̂0 instead of a draw, no extra evaluation) (default ${D.finalArgmax ? 'on; --no-final-argmax: off' : 'off'})` },
  'no-final-argmax': { type: 'boolean', help: 'diffusion: no final argmax evaluation (d3pm: the last step draws from x̂0)' },
  'corrector-steps': { type: 'int', help: `diffusion: corrector steps, one evaluation each (seed scheme: after the chain, re-noise 10% as in training and draw x_a at temperature 1; d3pm: at the lowest noise level before the last step) (default ${D3PM_SAMPLER_DEFAULTS.correctorSteps})`, min: 0, max: 1000 },
  decoupled: { type: 'boolean', help: `diffusion (seed scheme): a position changes with probability 1 − p(current) at temperature 1; its new code is drawn at the step's temperature from the other codes (default ${D.decoupled ? 'on; --no-decoupled: off' : 'off'})` },
  'no-decoupled': { type: 'boolean', help: "diffusion (seed scheme): draw every position from softmax(logits/T) (the seed's step)" },
  'choice-temperature': { type: 'number', help: "mask: MaskGIT's choice temperature τ, the Gumbel noise on the confidences, annealed to 0 over the steps (MaskGIT's: 4.5)", default: MASK_CHOICE_TEMPERATURE, min: 0 },
};

export type DiffusionSamplerFlags = Pick<DiffusionSampleOptions, 'temperatureEnd' | 'changeFraction' | 'minSteps' | 'finalArgmax' | 'decoupled'> & { confidenceTemperature: number; correctorSteps: number };

/** The sampler options of parsed flags (defaults: DIFFUSION_SAMPLER_DEFAULTS). */
export function diffusionSamplerOptions(f: Record<string, unknown>): DiffusionSamplerFlags {
  const on = (yes: string, no: string, d: boolean) => (f[no] ? false : f[yes] ? true : d);
  const steps = Number(f.steps ?? D.steps);
  return {
    temperatureEnd: f['temperature-end'] !== undefined ? Number(f['temperature-end']) : D.temperatureEnd,
    changeFraction: f['change-fraction'] !== undefined ? Number(f['change-fraction']) : D.changeFraction,
    minSteps: Math.min(steps, f['min-steps'] !== undefined ? Number(f['min-steps']) : D.minSteps),
    finalArgmax: on('final-argmax', 'no-final-argmax', D.finalArgmax),
    decoupled: on('decoupled', 'no-decoupled', D.decoupled),
    confidenceTemperature: Number(f['choice-temperature'] ?? MASK_CHOICE_TEMPERATURE),
    correctorSteps: Number(f['corrector-steps'] ?? D3PM_SAMPLER_DEFAULTS.correctorSteps),
  };
}

export interface DiffusionFigureOptions extends Partial<DiffusionSamplerFlags> {
  n: number;
  start: Int32Array;
  /** classifier-free guidance (null: plain) */
  guidance?: GuidanceOptions | null;
  steps: number;
  completion: Completion | null;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

/** Greys out the token cells whose code is the mask token. */
function greyMasked(c: Canvas, tokens: Int32Array, n: number, config: PriorConfig, size: number): void {
  const G = config.grid, L = G * G, cols = Math.ceil(Math.sqrt(n));
  const scale = Math.max(1, Math.round(64 / size)), cell = (size / G) * scale, gap = 2, tile = size * scale;
  const mask = maskToken(config);
  for (let b = 0; b < n; b++) {
    const x0 = gap + (b % cols) * (tile + gap), y0 = gap + Math.floor(b / cols) * (tile + gap);
    for (let i = 0; i < L; i++) {
      if (tokens[b * L + i] !== mask) continue;
      const cx = x0 + (i % G) * cell, cy = y0 + Math.floor(i / G) * cell;
      for (let y = cy; y < cy + cell; y++) for (let x = cx; x < cx + cell; x++) c.data.fill(160, (y * c.width + x) * 4, (y * c.width + x) * 4 + 3);
    }
  }
}

/** Chains of the reverse-process figures: at most this many (a 3×3 grid per frame). */
export const REVERSE_CHAINS = 9;

/**
 * The chains a reverse-process figure shows of n samples drawn in `classes` equal blocks: at most
 * REVERSE_CHAINS, taken from the classes in turn (the first of each class, then the second, …), so a
 * figure of a per-class run shows every class.
 */
export function reverseChains(n: number, classes = 1): number[] {
  const k = Math.floor(n / classes), picks: number[] = [];
  for (let i = 0; picks.length < Math.min(REVERSE_CHAINS, n) && i < n; i++) {
    const c = i % classes, j = Math.floor(i / classes);
    if (j < k) picks.push(c * k + j);
  }
  return picks;
}

/** What the reverse-process figures are drawn from: every step's tokens [n, L] and the run's shape. */
export interface ReverseFrames {
  frames: Int32Array[];
  n: number;
  config: PriorConfig;
  vqvae: VQVAE;
  completion: Completion | null;
}

/**
 * Writes the reverse process of chains `chains` (indices of the n, all when absent) to `out`: a GIF
 * of every step (.gif) or a strip of ~6 evenly spaced steps, first and last included, then (a
 * completion) the originals' reconstructions (.png): the seed's Figs. 5–7.
 */
export async function writeReverseFigure(out: string, r: ReverseFrames, chains?: number[]): Promise<void> {
  const { config, vqvae } = r;
  const L = config.grid ** 2, size = vqvae.config.size;
  const pick = chains ?? Array.from({ length: r.n }, (_, i) => i);
  const m = pick.length;
  const select = (t: Int32Array) => {
    const s = new Int32Array(m * L);
    pick.forEach((b, i) => s.set(t.subarray(b * L, (b + 1) * L), i * L));
    return s;
  };
  // Every frame shown, decoded in one call (the decoder's batches span frames; mask tokens draw as code 0).
  const renderAll = async (ts: Int32Array[]): Promise<Canvas[]> => {
    const all = new Int32Array(ts.length * m * L);
    ts.forEach((t, f) => all.set(t, f * m * L));
    const images = await decodeTokens(vqvae, all, ts.length * m);
    const per = m * 3 * size * size;
    return ts.map((t, f) => {
      const c = gridOf(images.subarray(f * per, (f + 1) * per), m, size);
      if (config.prior === 'mask') greyMasked(c, t, m, config, size);
      return c;
    });
  };
  const frames = r.frames.map(select);
  if (out.toLowerCase().endsWith('.gif')) {
    await writeGif(out, await renderAll(frames), 150, 2000);
    return;
  }
  const k = Math.min(6, frames.length);
  const picks = [...new Set(Array.from({ length: k }, (_, i) => Math.round((i * (frames.length - 1)) / Math.max(1, k - 1))))];
  const shown = picks.map((i) => frames[i]);
  // Completion: the originals' reconstructions close the strip, as in the AR completion figures.
  if (r.completion) shown.push(select(r.completion.originals));
  writePng(out, joinPanels(await renderAll(shown), 'row', 12));
}

/** The sampler's draw for `sample`, with every step's tokens kept when a reverse figure needs them. */
export async function drawWithFrames(prior: Prior, vqvae: VQVAE, o: DiffusionFigureOptions, keepFrames: boolean): Promise<{ tokens: Int32Array; evals: number; frames: ReverseFrames }> {
  const config = prior.config;
  const L = config.grid ** 2;
  const frames: Int32Array[] = [];
  const fixedMask = o.completion ? new Uint8Array(o.n * L) : undefined;
  const given = o.completion ? o.completion.originals : undefined;
  if (fixedMask) for (let b = 0; b < o.n; b++) fixedMask.fill(1, b * L, b * L + o.completion!.prefixLength);
  const onStep = keepFrames ? (_: number, t: Int32Array) => void frames.push(Int32Array.from(t)) : undefined;
  const { temperatureEnd, changeFraction, minSteps, finalArgmax, decoupled, confidenceTemperature, correctorSteps } = o;
  const chain = Object.fromEntries(Object.entries({ temperatureEnd, changeFraction, minSteps, finalArgmax, decoupled, confidenceTemperature, correctorSteps }).filter(([, v]) => v !== undefined));
  const r = await drawTokens(prior, o.n, {
    start: o.start, guidance: o.guidance ?? null, steps: o.steps, seed: o.seed, temperature: o.temperature, topK: o.topK, topP: o.topP,
    diffusion: { ...chain, fixedMask, given, onStep },
  });
  return { ...r, frames: { frames, n: o.n, config, vqvae, completion: o.completion } };
}
