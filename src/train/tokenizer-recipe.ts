// The tokenizer's training recipe (browser-safe): the flags of `vqgpu train-tokenizer`, whose
// defaults ARE the recipe, its presets, and the model and loss configs they make. The CLI parses
// argv into these flags; the web page's Train view takes the defaults (`flagDefaults`), so both
// train the same model the same way.

import { defaultTokenizerConfig, type TokenizerConfig } from '../models/tokenizer/config.js';
// (args.ts is plain TypeScript with no Node imports: the flag table's types and its error)
import { UsageError, type FlagSpec, type Flags } from '../io/flags.js';
import { DEFAULT_LOSS, type LossConfig } from './tokenizer-trainer.js';
// (nan-policy.ts is browser-safe too; the CLI's --on-nan flag is part of the table)
import { ON_NAN_FLAG } from './nan-policy.js';

/**
 * Recipes. The flag defaults are the best tokenizer we know for 32×32 → 8×8 (L2 reconstruction,
 * l2-normalised 8-dimensional codes, 2×2 patches folded into channels, a linear decay to 0 where
 * the run stops: docs/tokenizer.md); `--preset vqgan` gives the VQGAN setting instead (L1 +
 * perceptual + adversarial loss from the patch discriminator, 32-dimensional codes). A preset sets
 * only the flags the command line does not give.
 */
export const TOKENIZER_PRESETS: Record<string, Record<string, string | number | boolean | undefined>> = {
  psnr: {},
  vqgan: {
    'code-dim': 32, 'res-blocks': 1, 'enc-res-blocks': undefined, patch: 1, batch: 16, lr: DEFAULT_LOSS.lr, 'schedule-steps': 'none',
    schedule: 'cosine', 'lr-final': 0.1, rec: 'l1', perceptual: DEFAULT_LOSS.perceptual, adversarial: DEFAULT_LOSS.adversarial, l2norm: false, beta: 0.25,
  },
};

/** The preset's values for every flag absent from argv (undefined: the flag's own fallback). */
export function applyPreset(f: Record<string, unknown>, argv: readonly string[], preset: string): void {
  const given = new Set(argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]));
  for (const [k, v] of Object.entries(TOKENIZER_PRESETS[preset] ?? {})) {
    if (given.has(k)) continue;
    if (v === undefined) delete f[k];
    else f[k] = v;
  }
}

export const TRAIN_TOKENIZER_FLAGS: Record<string, FlagSpec> = {
  preset: { type: 'string', help: "recipe: 'psnr' (the flag defaults below: the best 32×32 tokenizer) or 'vqgan' (L1 + perceptual + adversarial losses with the patch discriminator, 32-dim codes, batch 16, constant rate); explicit flags override it", default: 'psnr', choices: Object.keys(TOKENIZER_PRESETS) },
  data: { type: 'string', help: "'emoji', 'synthetic' or an image folder", default: 'emoji' },
  size: { type: 'int', help: 'image side (pixels)', default: 32, min: 8, max: 1024 },
  grid: { type: 'int', help: 'token grid side', default: 8, min: 1, max: 256 },
  codebook: { type: 'int', help: 'number of codes', default: 256, min: 2, max: 65536 },
  'code-dim': { type: 'int', help: 'code dimension', default: 8, min: 1, max: 256 },
  width: { type: 'int', help: 'channels of the first level', default: 32, min: 4, max: 1024 },
  'res-blocks': { type: 'int', help: 'residual blocks per level', default: 2, min: 0, max: 8 },
  'enc-width': { type: 'int', help: "the encoder's width (default: --width, which then sets the decoder's alone)", min: 4, max: 1024 },
  'enc-res-blocks': { type: 'int', help: "the encoder's residual blocks per level", default: 1, min: 0, max: 16 },
  patch: { type: 'int', help: 'fold p×p pixel patches into channels before the first convolution (convolutions run at size/p)', default: 2, min: 1, max: 64 },
  'mid-blocks': { type: 'int', help: 'residual blocks at the token grid, in the middle of the encoder and of the decoder', default: 1, min: 1, max: 16 },
  'mid-mult': { type: 'int', help: "their channel multiplier (default: the last level's)", min: 1, max: 64 },
  attn: { type: 'boolean', help: 'a self-attention block in the middle of the encoder and the decoder, at the token grid (VQGAN)' },
  mult: { type: 'string', help: "channel multiplier per level, comma-separated, one per halving of the side (default '1,2', '1,2,4', ... capped at 4)" },
  steps: { type: 'int', help: 'stop after this many steps', min: 1 },
  minutes: { type: 'number', help: 'stop after this many minutes', min: 0 },
  batch: { type: 'int', help: 'images per step', default: 8, min: 1, max: 4096 },
  lr: { type: 'number', help: 'learning rate', default: 2.5e-3, min: 0 },
  betas: { type: 'string', help: "the generator's Adam β1,β2", default: '0.5,0.9' },
  clip: { type: 'number', help: "clip the generator's global gradient norm to this (0 = off)", default: DEFAULT_LOSS.clip, min: 0 },
  'schedule-steps': {
    type: 'string',
    help: "decay the learning rate to lr·(--lr-final) over this many steps, 'auto': to the step the run stops at (--steps, or the end of --minutes at the measured speed), or 'none': constant",
    default: 'auto',
  },
  schedule: { type: 'string', help: 'shape of that decay', default: 'linear', choices: ['cosine', 'linear'] },
  'lr-final': { type: 'number', help: 'the learning rate at the end of the decay, as a fraction of --lr', default: 0, min: 0, max: 1 },
  'checkpoint-every': { type: 'int', help: 'steps between checkpoints', default: 500, min: 1 },
  'log-every': { type: 'int', help: 'steps between progress lines', default: 50, min: 1 },
  'figure-every': { type: 'int', help: 'steps between reconstruction figures', default: 500, min: 1 },
  keep: { type: 'int', help: 'checkpoints kept', default: 3, min: 1 },
  rec: { type: 'string', help: 'reconstruction loss', default: 'l2', choices: ['l1', 'l2'] },
  perceptual: { type: 'number', help: 'perceptual (discriminator-feature) loss weight, 0 = off', default: 0, min: 0 },
  adversarial: { type: 'number', help: 'adversarial loss weight, 0 = off', default: 0, min: 0 },
  'adv-warmup': { type: 'int', help: 'steps before the adversarial loss starts', default: DEFAULT_LOSS.advWarmup, min: 0 },
  'no-ema': { type: 'boolean', help: 'learned codebook with codebook loss instead of EMA updates' },
  l2norm: { type: 'boolean', help: 'l2-normalised codes (--l2norm=false: off)', default: true },
  estimator: { type: 'string', help: "the encoder's gradient through the quantizer: straight-through or the rotation trick", default: 'ste', choices: ['ste', 'rotation'] },
  beta: { type: 'number', help: 'commitment weight β (on the encoder side)', default: 0.5, min: 0 },
  'ema-decay': { type: 'number', help: 'decay of the EMA codebook updates', default: 0.99, min: 0, max: 1 },
  'restart-every': { type: 'int', help: 'steps between dead-code restarts (0 = never)', default: 25, min: 0 },
  seed: { type: 'int', help: 'random seed', default: 0 },
  shift: { type: 'int', help: 'augmentation: random translations by up to this many pixels (white fill), besides the flips', default: 0, min: 0, max: 64 },
  strict: { type: 'boolean', help: 'check every image first and stop, listing the bad ones, instead of skipping them' },
  'on-nan': ON_NAN_FLAG,
  'encoder-from': {
    type: 'string',
    help: "train only a decoder (RUN's, or of --width and --res-blocks where given: more blocks at RUN's width start as RUN's decoder plus identity blocks, another width starts fresh) on RUN's encoder and codebook, frozen: the tokens stay RUN's, so RUN's token caches and the priors trained on them keep working with this tokenizer; the shape, codebook and encoder flags come from RUN",
  },
  out: { type: 'string', help: 'run folder', required: true },
  resume: { type: 'boolean', help: 'continue from the last checkpoint in --out' },
};

/** '--mult 1,4' → [1, 4]; the level count is checked against --size/--grid by the config. */
function parseMult(spec: string | undefined): number[] | undefined {
  if (spec === undefined) return undefined;
  const m = spec.split(',').map((x) => Number(x.trim()));
  if (!m.length || m.some((x) => !Number.isInteger(x) || x < 1 || x > 64)) {
    throw new UsageError(`train-tokenizer: --mult '${spec}' must be comma-separated integers in 1..64 (e.g. 1,2).`);
  }
  return m;
}

/** '--schedule-steps 4900' → 4900, 'auto' → 'auto', absent → 0 (constant rate). */
function parseScheduleSteps(spec: string | undefined): number | 'auto' {
  if (spec === undefined || spec === 'none') return 0;
  if (spec === 'auto') return 'auto';
  const n = Number(spec);
  if (spec.trim() === '' || !Number.isInteger(n) || n < 1) {
    throw new UsageError(`train-tokenizer: --schedule-steps must be a positive integer, 'auto' or 'none'; got '${spec}'.`);
  }
  return n;
}

/** '--betas 0.5,0.9' → [0.5, 0.9]: two numbers in [0, 1). */
function parseBetas(spec: string): [number, number] {
  const b = spec.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (b.length !== 2 || b.some((x) => !(x >= 0 && x < 1))) {
    throw new UsageError(`train-tokenizer: --betas '${spec}' must be two numbers in [0, 1) separated by a comma (e.g. 0.5,0.9).`);
  }
  return [b[0], b[1]];
}

/** The flags' defaults: what `vqgpu train-tokenizer` does when given no recipe flag. */
export function flagDefaults(specs: Record<string, FlagSpec> = TRAIN_TOKENIZER_FLAGS): Flags {
  const f: Flags = {};
  for (const [k, s] of Object.entries(specs)) if (s.default !== undefined) f[k] = s.default;
  return f;
}

/** What a fresh run trains, from its flags (after the preset): the model, the loss and the data stream's settings. */
export interface TokenizerRecipe {
  config: TokenizerConfig;
  loss: LossConfig;
  batch: number;
  seed: number;
  /** augmentation: translations by up to this many pixels */
  shift: number;
  /** steps between dead-code restarts (0: never) */
  restartEvery: number;
}

export function tokenizerRecipe(f: Flags): TokenizerRecipe {
  const betas = parseBetas(f.betas as string);
  const decaySteps = parseScheduleSteps(f['schedule-steps'] as string | undefined);
  const config = defaultTokenizerConfig({
    size: Number(f.size), grid: Number(f.grid), codebook: Number(f.codebook), codeDim: Number(f['code-dim']),
    width: Number(f.width), resBlocks: Number(f['res-blocks']), mult: parseMult(f.mult as string | undefined), attention: !!f.attn, patch: Number(f.patch), midBlocks: Number(f['mid-blocks']), midMult: f['mid-mult'] === undefined ? undefined : Number(f['mid-mult']),
    encoderWidth: f['enc-width'] === undefined ? undefined : Number(f['enc-width']),
    encoderResBlocks: f['enc-res-blocks'] === undefined ? undefined : Number(f['enc-res-blocks']),
    quantizer: { ema: !f['no-ema'], l2norm: !!f.l2norm, beta: Number(f.beta), decay: Number(f['ema-decay']), estimator: f.estimator as 'ste' | 'rotation' } as TokenizerConfig['quantizer'],
  });
  const loss: LossConfig = {
    ...DEFAULT_LOSS, rec: f.rec as 'l1' | 'l2', perceptual: Number(f.perceptual), adversarial: Number(f.adversarial),
    advWarmup: Number(f['adv-warmup']), lr: Number(f.lr), discLr: Number(f.lr),
    decaySteps, clip: Number(f.clip),
    decayShape: f.schedule as 'cosine' | 'linear', lrFinal: Number(f['lr-final']), betas,
  };
  return { config, loss, batch: Number(f.batch), seed: Number(f.seed), shift: Number(f.shift), restartEvery: Number(f['restart-every']) };
}
