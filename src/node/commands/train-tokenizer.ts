// vqgpu train-tokenizer --data <emoji|DIR> --size 32 --grid 8 --codebook 256 [--code-dim D]
//   [--steps N | --minutes M] [--schedule-steps S] [--checkpoint-every S] [--batch B] [--strict]
//   [--on-nan stop|skip]
//   --out RUN [--resume]
// Trains the VQ-VAE (+ discriminator) and writes atomic checkpoints, progress lines and figures.
// A checkpoint holds everything the loop depends on (weights, EMA codebook state, both optimizers,
// step, data position), so `--resume` continues bit-exactly; figures never advance the data stream.
// Ctrl-C / SIGTERM writes a checkpoint and exits with code 130. Bad image files are skipped with a
// warning each and counted at the end; --strict checks every file first and stops with the list.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runtime } from '../../device/runtime.js';
import { defaultTokenizerConfig, checkTokenizerConfig, type TokenizerConfig } from '../../models/tokenizer/config.js';
import { usageStats } from '../../models/tokenizer/quantizer.js';
import { manualSeed } from '../../nn/init.js';
import { tensor } from '../../tensor/tensor.js';
import { DEFAULT_LOSS, TokenizerTrainer, type LossConfig } from '../../train/tokenizer-trainer.js';
import { parseFlags, UsageError, type FlagSpec } from '../args.js';
import { expectRunKind, loadLatestCheckpoint, saveCheckpoint, restoreCheckpoint } from '../checkpoint.js';
import { installNanTestHook, NanGuard, ON_NAN_FLAG, type NanPolicy } from '../nan-policy.js';
import { openDataSet } from '../dataset.js';
import { ImageLoader } from '../image-loader.js';
import { TokenizerState } from '../tokenizer-run.js';
import { writePng } from '../write-image.js';
import { reconstructionFigure } from '../recon-figure.js';
import { evaluateTokenizer } from './eval-tokenizer.js';
import { StopEstimate } from '../../train/stop-estimate.js';
import { onInterrupt, progressLine } from '../progress.js';

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

export async function trainTokenizer(argv: string[]): Promise<void> {
  const f = parseFlags(argv, TRAIN_TOKENIZER_FLAGS, 'train-tokenizer');
  applyPreset(f, argv, f.preset as string);
  const betas = parseBetas(f.betas as string);
  const decaySteps = parseScheduleSteps(f['schedule-steps'] as string | undefined);
  if (f.steps === undefined && f.minutes === undefined) throw new UsageError('train-tokenizer: give --steps N or --minutes M.');
  const out = f.out as string;
  mkdirSync(out, { recursive: true });
  const rt = runtime();

  // Config: from the checkpoint on --resume (the file is the source of truth), else from flags.
  const prior = f.resume ? await loadLatestCheckpoint(out) : null;
  if (prior) expectRunKind(prior, 'tokenizer', `--out '${out}'`);
  for (const why of prior?.skipped ?? []) console.error(`warning: skipped an unreadable checkpoint: ${why}`);
  if (f.resume && !prior) console.error(`note: --resume given but ${out} has no checkpoint; starting fresh.`);
  const saved = prior?.config as { tokenizer: TokenizerConfig; loss: LossConfig; data: string; batch: number; seed: number } | undefined;
  manualSeed(Number(f.seed));
  const config = saved
    ? checkTokenizerConfig(saved.tokenizer, prior!.path)
    : defaultTokenizerConfig({
        size: Number(f.size), grid: Number(f.grid), codebook: Number(f.codebook), codeDim: Number(f['code-dim']),
        width: Number(f.width), resBlocks: Number(f['res-blocks']), mult: parseMult(f.mult as string | undefined), attention: !!f.attn, patch: Number(f.patch), midBlocks: Number(f['mid-blocks']), midMult: f['mid-mult'] === undefined ? undefined : Number(f['mid-mult']),
        encoderWidth: f['enc-width'] === undefined ? undefined : Number(f['enc-width']),
        encoderResBlocks: f['enc-res-blocks'] === undefined ? undefined : Number(f['enc-res-blocks']),
        quantizer: { ema: !f['no-ema'], l2norm: !!f.l2norm, beta: Number(f.beta), decay: Number(f['ema-decay']), estimator: f.estimator as 'ste' | 'rotation' } as TokenizerConfig['quantizer'],
      });
  const loss: LossConfig = saved?.loss ?? {
    ...DEFAULT_LOSS, rec: f.rec as 'l1' | 'l2', perceptual: Number(f.perceptual), adversarial: Number(f.adversarial),
    advWarmup: Number(f['adv-warmup']), lr: Number(f.lr), discLr: Number(f.lr),
    decaySteps, clip: Number(f.clip),
    decayShape: f.schedule as 'cosine' | 'linear', lrFinal: Number(f['lr-final']), betas,
  };
  const dataSpec = saved?.data ?? (f.data as string);
  const batch = saved?.batch ?? Number(f.batch);
  const seed = saved?.seed ?? Number(f.seed);
  const shift = (saved as { shift?: number } | undefined)?.shift ?? Number(f.shift);

  const data = openDataSet(dataSpec);
  const badFiles = new Set<string>();
  const onBadFile = (p: string, why: string) => {
    if (badFiles.has(p)) return;
    badFiles.add(p);
    console.error(`warning: skipping ${why}`);
  };
  if (f.strict) {
    const bad = new ImageLoader(data, { size: config.size, batch, split: 'all', cacheBytes: 0 }).scan();
    if (bad.length) throw new Error(`--strict: ${bad.length} bad image file(s) in '${data.name}':\n  ${bad.map(([, why]) => why).join('\n  ')}`);
  }
  const loader = new ImageLoader(data, { size: config.size, batch, split: 'train', seed, flip: true, shift, strict: !!f.strict, onBadFile });
  const state = new TokenizerState(config);
  const useDisc = loss.perceptual > 0 || loss.adversarial > 0;
  const trainer = new TokenizerTrainer(state.vqvae, useDisc ? state.disc : null, loss);
  if (prior) {
    restoreCheckpoint(prior, { model: state, optimizers: { g: trainer.optG, ...(trainer.optD ? { d: trainer.optD } : {}) } });
    trainer.step = prior.step;
    const extra = prior.extra as { loader: { epoch: number; pos: number } };
    loader.setState(extra.loader);
    console.error(`resumed from ${prior.path} at step ${prior.step}`);
  }
  console.error(
    `train-tokenizer: ${data.name} (${loader.items.length} training images), ${config.size}px → ${config.grid}×${config.grid} tokens, ` +
      `${config.codebook} codes × ${config.codeDim}, ${state.vqvae.numParameters().toLocaleString()} parameters, batch ${batch}, ` +
      `adapter: ${rt.report.description || rt.report.vendor}`,
  );

  const runConfig = { tokenizer: config, loss, data: dataSpec, batch, seed, shift };
  const testHook = installNanTestHook();
  const nan = new NanGuard({ generator: trainer.optG, ...(trainer.optD ? { discriminator: trainer.optD } : {}) }, f['on-nan'] as NanPolicy, out);
  let savedStep = -1;
  const save = async () => {
    const warning = await nan.check(trainer.step, () => trainer.takeLosses());
    if (warning) console.error(warning);
    savedStep = trainer.step;
    await saveCheckpoint(out, {
      model: state, optimizers: { g: trainer.optG, ...(trainer.optD ? { d: trainer.optD } : {}) }, step: trainer.step,
      config: runConfig, extra: { loader: loader.state },
    }, { keep: Number(f.keep) });
  };
  const figure = async (name: string) => {
    // The next training batch, without consuming it: the data stream must not depend on figures.
    const at = { ...loader.state };
    const b = loader.next();
    loader.setState(at);
    writePng(join(out, name), await reconstructionFigure(state.vqvae, b.images, Math.min(8, b.items.length), 1));
  };

  const stopAt = f.steps !== undefined ? Number(f.steps) : Infinity;
  const deadline = f.minutes !== undefined ? Date.now() + Number(f.minutes) * 60_000 : Infinity;
  let interrupted = false;
  const unhook = onInterrupt(() => (interrupted = true));
  const t0 = Date.now();
  const startStep = trainer.step;
  let lastLog = Date.now(), lastLogStep = trainer.step;
  const every = (n: number) => n > 0 && trainer.step % n === 0;
  // --schedule-steps auto: the decay ends where the run will stop, re-estimated every step.
  const stopEstimate = loss.decaySteps === 'auto' ? new StopEstimate({ startStep, stopAt, deadline }) : null;
  try {
    while (trainer.step < stopAt && Date.now() < deadline && !interrupted) {
      const b = loader.next();
      if (testHook.inputStep === trainer.step + 1) b.images[0] = NaN; // TEST HOOK (VQGPU_TEST_NAN_STEP=input:k)
      const x = tensor(b.images, [batch, 3, config.size, config.size]);
      const end = stopEstimate?.at(trainer.step);
      if (end != null) trainer.setDecaySteps(end);
      trainer.train(x, every(Number(f['restart-every'])));
      x.dispose();
      // At most one step in flight: bounds Dawn's queue (an unbounded run of ~150 steps without a
      // wait crashed Dawn/lavapipe) and overlaps recording step t+1 with running step t.
      await rt.throttle();
      if (every(Number(f['log-every']))) {
        const l = await trainer.takeLosses();
        const u = usageStats(await state.vqvae.quantizer.takeUsage());
        const now = Date.now();
        const ips = ((trainer.step - lastLogStep) * batch) / ((now - lastLog) / 1000);
        lastLog = now;
        lastLogStep = trainer.step;
        const left = Math.min(
          stopAt === Infinity ? Infinity : ((stopAt - trainer.step) * batch) / ips,
          deadline === Infinity ? Infinity : (deadline - now) / 1000,
        );
        console.log(progressLine(trainer.step, stopAt, {
          rec: l.rec, perc: l.perc, vq: l.vq, adv: l.adv, disc: l.disc, 'img/s': ips, usage: u.usage, ppl: u.perplexity,
        }, left));
        const warning = await nan.check(trainer.step, l);
        if (warning) console.error(warning);
      }
      if (every(Number(f['checkpoint-every']))) await save();
      if (every(Number(f['figure-every']))) await figure(`recon-${String(trainer.step).padStart(6, '0')}.png`);
    }
  } finally {
    unhook();
  }
  if (savedStep !== trainer.step && (trainer.step > startStep || !prior)) await save();
  await figure('recon-final.png');
  const secs = (Date.now() - t0) / 1000;
  const skipped = Object.entries(nan.skipped).filter(([, n]) => n > 0).map(([k, n]) => `${n} '${k}' step(s)`);
  const skipNote = skipped.length ? `, skipped for non-finite gradients: ${skipped.join(', ')}` : '';
  if (rt.profiler) console.error(await rt.profileReport());
  console.error(`done: step ${trainer.step} in ${secs.toFixed(0)} s${skipNote}${interrupted ? ' (interrupted, checkpoint written; continue with --resume)' : ''}`);
  if (interrupted) process.exitCode = 130;
  else if (data.items.some((it) => it.heldout)) {
    const m = await evaluateTokenizer(state.vqvae, data, { batch: 64, onBadFile });
    console.log(JSON.stringify({ step: trainer.step, ...m }));
  }
  if (badFiles.size) console.error(`warning: ${badFiles.size} bad image file(s) were skipped:\n  ${[...badFiles].join('\n  ')}`);
}
