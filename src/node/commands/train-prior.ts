// vqgpu train-prior --kind ar|diffusion|mask --tokens CACHE [--layers L --dim D --heads H]
//   [--noise seed|d3pm [--timesteps T] [--self-condition]]   (diffusion: the seed's scheme, or D3PM's uniform noise)
//   [--steps N | --minutes M] [--schedule-steps S] [--on-nan stop|skip] --out RUN [--resume]
// Trains a prior on the token cache's training split; logs loss, tokens/s, the held-out loss and the
// time left; writes atomic checkpoints holding the config, optimizer state, step and RNG state (the
// batch sampler's and the GPU generator's, for dropout), so a resumed run continues bit-exactly.
// Ctrl-C / SIGTERM writes a checkpoint and exits with code 130.

import { runtime } from '../../device/runtime.js';
import { splitTokens } from '../../data/token-cache.js';
import { PRIOR_KINDS, checkPriorConfig, D3PM_TIMESTEPS, DIFFUSION_NOISES, kindLabel, MASK_DEFAULTS, noiseOf, type DiffusionNoise, type PriorKind } from '../../models/prior/config.js';
import { NoiseRng } from '../../models/prior/noise.js';
import { Prior } from '../../models/prior/prior.js';
import { manualSeed } from '../../nn/init.js';
import { defaultGenerator, type GeneratorState } from '../../ops/random.js';
import { classCounts, DEFAULT_LABEL_DROP, makeBatch, PRIOR_DEFAULTS } from '../../train/prior-trainer.js';
import { DEFAULT_EXTRA_NOISE, drawPriorBatch, newPriorRun, priorTrainerFor, restorePriorTraining, type PriorRunConfig } from '../../train/prior-run.js';
import { RUN_FLAGS } from '../run-flags.js';
import { StopEstimate } from '../../train/stop-estimate.js';
import { parseFlags, UsageError, type FlagSpec } from '../../io/flags.js';
import { openRunFolder, saveCheckpoint } from '../checkpoint.js';
import { installNanTestHook, NanGuard, type NanPolicy } from '../../train/nan-policy.js';
import { checkCacheMatchesPrior, readTokenCache } from '../prior-run.js';
import { onInterrupt, progressLine } from '../progress.js';
import { heldoutLoss } from './eval-prior.js';

export const TRAIN_PRIOR_FLAGS: Record<string, FlagSpec> = {
  kind: { type: 'string', help: 'prior kind', default: 'ar', choices: [...PRIOR_KINDS] },
  tokens: { type: 'string', help: 'token cache (from `vqgpu encode`)', required: true },
  layers: { type: 'int', help: 'transformer blocks', default: PRIOR_DEFAULTS.layers, min: 1, max: 64 },
  dim: { type: 'int', help: 'model width', default: PRIOR_DEFAULTS.dim, min: 8, max: 4096 },
  heads: { type: 'int', help: 'attention heads', default: PRIOR_DEFAULTS.heads, min: 1, max: 64 },
  dropout: { type: 'number', help: 'dropout', default: PRIOR_DEFAULTS.dropout, min: 0, max: 0.9 },
  noise: { type: 'string', help: "diffusion: the noise scheme: seed (x_a from x_b, the seed's) or d3pm (uniform noise at a cosine-scheduled level given to the network, x_0 predicted; sample draws from the posterior q(x_s | x_t, x̂_0)) (default seed)", choices: DIFFUSION_NOISES },
  'self-condition': { type: 'boolean', help: 'diffusion --noise d3pm: self-conditioning: the network also reads the argmax of its own previous x_0 prediction (training: half the batches, from a first pass without gradient; sampling: the previous step\'s)' },
  timesteps: { type: 'int', help: `diffusion --noise d3pm: number T of noise levels (each a learned input token) (default ${D3PM_TIMESTEPS})`, min: 2, max: 1000 },
  'extra-noise': { type: 'number', help: 'diffusion (seed scheme): further fraction replaced to make x_b from x_a', default: DEFAULT_EXTRA_NOISE, min: 0, max: 1 },
  'min-mask-ratio': { type: 'number', help: `mask: minimum mask ratio of training (MaskGIT's cosine schedule truncated there) (default ${MASK_DEFAULTS.minMaskRatio})`, min: 0, max: 1 },
  'label-smoothing': { type: 'number', help: `label smoothing ε of the training cross-entropy (default: ${MASK_DEFAULTS.labelSmoothing} for mask, as MaskGIT; 0 for ar and diffusion)`, min: 0, max: 1 },
  'class-cond': { type: 'boolean', help: "condition on the cache's labels (class tokens)" },
  'label-drop': { type: 'number', help: `class-cond: fraction of items trained unconditionally (the null class), for classifier-free guidance (default ${DEFAULT_LABEL_DROP} with --class-cond)`, min: 0, max: 1 },
  steps: { type: 'int', help: 'stop after this many steps', min: 1 },
  minutes: { type: 'number', help: 'stop after this many minutes', min: 0 },
  'schedule-steps': { type: 'int', help: 'length of the learning-rate schedule (default: --steps; with --minutes alone, the step the time budget ends at, estimated from the measured speed)', min: 1 },
  batch: { type: 'int', help: 'sequences per step', default: PRIOR_DEFAULTS.batch, min: 1, max: 4096 },
  lr: { type: 'number', help: 'peak learning rate', default: PRIOR_DEFAULTS.lr, min: 0 },
  warmup: { type: 'int', help: 'warm-up steps', default: PRIOR_DEFAULTS.warmup, min: 0 },
  ema: { type: 'number', help: 'decay d of an average of the weights kept for sampling (sample, eval-samples and export-run use it; 0: none)', default: PRIOR_DEFAULTS.ema, min: 0, max: 0.99999 },
  ...RUN_FLAGS,
};

type RunConfig = PriorRunConfig;

export async function trainPrior(argv: string[]): Promise<void> {
  const f = parseFlags(argv, TRAIN_PRIOR_FLAGS, 'train-prior');
  if (f.steps === undefined && f.minutes === undefined) throw new UsageError('train-prior: give --steps N or --minutes M.');
  const out = f.out as string;
  const cachePath = f.tokens as string;
  // --noise belongs to the diffusion kind (checked before anything is read; on --resume the run's own kind decides below)
  if (f.noise !== undefined && !f.resume && f.kind !== 'diffusion') {
    throw new UsageError(`train-prior: --noise ${f.noise} applies to --kind diffusion only (got --kind ${f.kind}); the ${f.kind} prior has no noise scheme to choose.`);
  }
  if (f.timesteps !== undefined && f.noise !== 'd3pm') throw new UsageError('train-prior: --timesteps needs --kind diffusion --noise d3pm.');
  if (f['self-condition'] && !f.resume && f.noise !== 'd3pm') throw new UsageError('train-prior: --self-condition needs --kind diffusion --noise d3pm.');
  if (f['label-drop'] !== undefined && !f['class-cond']) throw new UsageError('train-prior: --label-drop needs --class-cond (an unconditional prior has no labels to drop).');
  const cache = readTokenCache(cachePath);
  const classCond = !!f['class-cond'];
  if (classCond && !cache.header.labels.length) throw new UsageError(`train-prior: --class-cond, but token cache '${cachePath}' has no class labels.`);
  const priorCkpt = await openRunFolder(out, !!f.resume, 'prior', 'train-prior');
  const saved = priorCkpt?.config as RunConfig | undefined;
  const kind = (saved?.prior.prior ?? f.kind) as PriorKind;
  if (f['min-mask-ratio'] !== undefined && kind !== 'mask') throw new UsageError(`train-prior: --min-mask-ratio applies to --kind mask only.`);
  if (f.noise !== undefined && kind !== 'diffusion') throw new UsageError(`train-prior: --noise applies to --kind diffusion only; the run in '${out}' is a ${kind} prior.`);
  if (saved && f.noise !== undefined && f.noise !== noiseOf(saved.prior)) {
    console.error(`note: --noise ${f.noise} ignored on resume; the run keeps its ${noiseOf(saved.prior)} noise.`);
  }
  if (saved && (f['min-mask-ratio'] !== undefined || f['label-smoothing'] !== undefined)) {
    console.error('note: --min-mask-ratio and --label-smoothing are part of the run; the resumed run keeps its own.');
  }
  // The schedule's length is part of the run: a run stopped early and resumed follows the same curve.
  const totalSteps = Number(f['schedule-steps'] ?? f.steps ?? 0);
  manualSeed(Number(f.seed));
  defaultGenerator().manualSeed(Number(f.seed));
  const run: RunConfig = saved
    ? { ...saved, prior: checkPriorConfig(saved.prior, priorCkpt!.path), totalSteps: Math.max(saved.totalSteps, totalSteps) }
    : newPriorRun(cache, {
        kind: f.kind as PriorKind, classCond,
        dim: Number(f.dim), layers: Number(f.layers), heads: Number(f.heads), dropout: Number(f.dropout), extraNoise: Number(f['extra-noise']),
        labelDrop: f['label-drop'] !== undefined ? Number(f['label-drop']) : undefined,
        minMaskRatio: f['min-mask-ratio'] !== undefined ? Number(f['min-mask-ratio']) : undefined,
        noise: (f.noise ?? 'seed') as DiffusionNoise, timesteps: f.timesteps !== undefined ? Number(f.timesteps) : undefined,
        selfCondition: !!f['self-condition'],
        labelSmoothing: f['label-smoothing'] !== undefined ? Number(f['label-smoothing']) : undefined,
        batch: Number(f.batch), lr: Number(f.lr), warmup: Number(f.warmup), totalSteps, seed: Number(f.seed), ema: Number(f.ema),
      });
  checkCacheMatchesPrior(cache, cachePath, run.prior, out);
  if (saved && f['label-drop'] !== undefined && Number(f['label-drop']) !== (run.prior.labelDrop ?? 0)) {
    console.error(`note: --label-drop ${f['label-drop']} ignored on resume; the run keeps its ${run.prior.labelDrop ?? 0}.`);
  }
  const train = splitTokens(cache, 'train');
  if (run.prior.classes > 0) {
    // Older class-conditional runs lack these; the cache is the one they were trained on (checked above).
    run.prior.classNames ??= [...cache.header.labels];
    run.prior.classCounts ??= classCounts(train.labels, run.prior.classes);
  }
  const labelDrop = run.prior.classes > 0 ? run.prior.labelDrop ?? 0 : 0;
  const held = splitTokens(cache, 'heldout');
  if (!train.count) throw new Error(`token cache '${cachePath}' has no training items.`);
  const prior = new Prior(run.prior);
  const trainer = priorTrainerFor(prior, run);
  const rng = new NoiseRng(run.seed * 7919 + 1);
  if (priorCkpt) {
    restorePriorTraining(priorCkpt, trainer);
    const saved = priorCkpt.rng as { noise: number; gpu: GeneratorState };
    rng.state = saved.noise;
    defaultGenerator().setState(saved.gpu); // dropout masks continue where they stopped
    console.error(`resumed from ${priorCkpt.path} at step ${priorCkpt.step}`);
  }
  const L = cache.header.grid ** 2, B = run.batch;
  console.error(
    `train-prior: ${kindLabel(run.prior)} prior, ${prior.numParameters().toLocaleString()} parameters, ${train.count} training grids of ${L} tokens ` +
      `(${held.count} held out), codebook ${run.prior.codebook}, batch ${B}` +
      (run.prior.classes > 0 ? `, ${run.prior.classes} classes, label drop ${labelDrop}` : '') +
      (run.prior.prior === 'mask' ? `, minimum mask ratio ${run.prior.minMaskRatio ?? 0}` : '') +
      (run.prior.noise === 'd3pm' ? `, ${run.prior.timesteps} noise levels (cosine), loss: x_0 cross-entropy` + (run.prior.selfCondition ? ', self-conditioned' : '') : '') +
      (run.labelSmoothing ? `, label smoothing ${run.labelSmoothing} (the logged loss is the smoothed one; held-out: plain)` : '') +
      (run.ema ? `, weight average for sampling (EMA ${run.ema})` : ''),
  );
  const testHook = installNanTestHook();
  if (testHook.inputStep) throw new Error('VQGPU_TEST_NAN_STEP=input:<k> applies to train-tokenizer only.');
  const nan = new NanGuard({ prior: trainer.opt }, f['on-nan'] as NanPolicy, out);
  let savedStep = -1;
  const save = async () => {
    const warning = await nan.check(trainer.step, async () => ({ loss: await trainer.takeLoss() }));
    if (warning) console.error(warning);
    savedStep = trainer.step;
    await saveCheckpoint(out, { model: prior, ema: trainer.ema?.shadow, optimizer: trainer.opt, step: trainer.step, rng: { noise: rng.state, gpu: defaultGenerator().getState() }, config: run }, { keep: Number(f.keep) });
  };

  const stopAt = f.steps !== undefined ? Number(f.steps) : Infinity;
  const deadline = f.minutes !== undefined ? Date.now() + Number(f.minutes) * 60_000 : Infinity;
  let interrupted = false;
  const unhook = onInterrupt(() => (interrupted = true));
  const every = (n: number) => trainer.step % n === 0;
  let lastT = Date.now(), lastStep = trainer.step;
  const startStep = trainer.step;
  // A schedule following the time budget: its end re-estimated every step (as the tokenizer's
  // --schedule-steps auto), so the cosine has reached lr/10 when the minutes run out.
  const stopEstimate = run.scheduleAuto && deadline !== Infinity ? new StopEstimate({ startStep, stopAt, deadline }) : null;
  const x = new Int32Array(B * L), labels = new Int32Array(B);
  try {
    while (trainer.step < stopAt && Date.now() < deadline && !interrupted) {
      drawPriorBatch(train, rng, x, labels, labelDrop); // (labels dropped to the null class for classifier-free guidance)
      const end = stopEstimate?.at(trainer.step);
      if (end != null) trainer.setDecaySteps(end);
      trainer.train(makeBatch(run.prior, x, labels, rng));
      await runtime().throttle(); // at most one step in flight (see train-tokenizer)
      if (every(Number(f['log-every']))) {
        const loss = await trainer.takeLoss();
        const now = Date.now();
        const tps = ((trainer.step - lastStep) * B * L) / ((now - lastT) / 1000);
        lastT = now;
        lastStep = trainer.step;
        const left = Math.min(stopAt === Infinity ? Infinity : ((stopAt - trainer.step) * B * L) / tps, deadline === Infinity ? Infinity : (deadline - now) / 1000);
        console.log(progressLine(trainer.step, stopAt, { loss, 'bits/tok': loss / Math.LN2, 'tok/s': tps }, left));
        const warning = await nan.check(trainer.step, { loss });
        if (warning) console.error(warning);
      }
      if (every(Number(f['eval-every'])) && held.count) {
        const h = await heldoutLoss(prior, held, run.prior);
        console.log(`held-out: step ${trainer.step} | loss ${h.loss.toFixed(4)} | bits/tok ${(h.loss / Math.LN2).toFixed(4)}`);
      }
      if (every(Number(f['checkpoint-every']))) await save();
    }
  } finally {
    unhook();
  }
  if (savedStep !== trainer.step && (trainer.step > startStep || !priorCkpt)) await save();
  const skipped = nan.skipped.prior ? `, ${nan.skipped.prior} step(s) skipped for non-finite gradients` : '';
  if (runtime().profiler) console.error(await runtime().profileReport()); // (VQGPU_PROFILE=1)
  console.error(`done: step ${trainer.step}${skipped}${interrupted ? ' (interrupted, checkpoint written; continue with --resume)' : ''}`);
  if (interrupted) process.exitCode = 130;
}
