// vqgpu train-tokenizer --data <emoji|DIR> --size 32 --grid 8 --codebook 256 [--code-dim D]
//   [--steps N | --minutes M] [--schedule-steps S] [--checkpoint-every S] [--batch B] [--strict]
//   [--on-nan stop|skip]
//   [--encoder-from RUN] --out RUN [--resume]
// Trains the VQ-VAE (+ discriminator) and writes atomic checkpoints, progress lines and figures.
// A checkpoint holds everything the loop depends on (weights, EMA codebook state, both optimizers,
// step, data position), so `--resume` continues bit-exactly; figures never advance the data stream.
// --encoder-from RUN trains a decoder alone on RUN's frozen encoder and codebook: the same tokens, so
// RUN's token caches and priors stay valid (the config's "tokens" names RUN's identity).
// Ctrl-C / SIGTERM writes a checkpoint and exits with code 130. Bad image files are skipped with a
// warning each and counted at the end; --strict checks every file first and stops with the list.

import { join } from 'node:path';
import { runtime } from '../../device/runtime.js';
import { checkTokenizerConfig, type TokenizerConfig } from '../../models/tokenizer/config.js';
import { usageStats } from '../../models/tokenizer/quantizer.js';
import { manualSeed } from '../../nn/init.js';
import { tensor } from '../../tensor/tensor.js';
import { TokenizerTrainer, type LossConfig } from '../../train/tokenizer-trainer.js';
import { applyPreset, tokenizerRecipe, TRAIN_TOKENIZER_FLAGS } from '../../train/tokenizer-recipe.js';
import { parseFlags, UsageError } from '../../io/flags.js';
import { openRunFolder, restoreCheckpoint, saveCheckpoint } from '../checkpoint.js';
import { installNanTestHook, NanGuard, type NanPolicy } from '../../train/nan-policy.js';
import { openDataSet } from '../dataset.js';
import { ImageLoader } from '../image-loader.js';
import { decoderOnlyStart, TokenizerState, type TokenIdentity } from '../tokenizer-run.js';
import { writePng } from '../write-image.js';
import { reconstructionFigure } from '../recon-figure.js';
import { evaluateTokenizer } from './eval-tokenizer.js';
// The recipe (flags, presets) lives in src/train/tokenizer-recipe.ts, shared with the web page.
export { applyPreset, TOKENIZER_PRESETS, TRAIN_TOKENIZER_FLAGS } from '../../train/tokenizer-recipe.js';
import { StopEstimate } from '../../train/stop-estimate.js';
import { onInterrupt, progressLine } from '../progress.js';

export async function trainTokenizer(argv: string[]): Promise<void> {
  const f = parseFlags(argv, TRAIN_TOKENIZER_FLAGS, 'train-tokenizer');
  applyPreset(f, argv, f.preset as string);
  if (f.steps === undefined && f.minutes === undefined) throw new UsageError('train-tokenizer: give --steps N or --minutes M.');
  const out = f.out as string;
  const rt = runtime();

  // Config: from the checkpoint on --resume (the file is the source of truth), else from flags.
  const prior = await openRunFolder(out, !!f.resume, 'tokenizer', 'train-tokenizer');
  const saved = prior?.config as { tokenizer: TokenizerConfig; loss: LossConfig; data: string; batch: number; seed: number; tokens?: TokenIdentity } | undefined;
  manualSeed(Number(f.seed));
  const recipe = saved ? null : tokenizerRecipe(f);
  // --encoder-from: the source's encoder and codebook, frozen, and a decoder to train (its tokens).
  const start = !saved && f['encoder-from'] !== undefined
    ? await decoderOnlyStart(f['encoder-from'] as string, {
      width: argv.some((a) => /^--width(=|$)/.test(a)) ? Number(f.width) : undefined,
      resBlocks: argv.some((a) => /^--res-blocks(=|$)/.test(a)) ? Number(f['res-blocks']) : undefined,
    })
    : null;
  const config = saved ? checkTokenizerConfig(saved.tokenizer, prior!.path) : (start?.config ?? recipe!.config);
  const loss: LossConfig = saved?.loss ?? (start ? { ...recipe!.loss, decoderOnly: true } : recipe!.loss);
  const tokens = saved?.tokens ?? start?.tokens;
  const dataSpec = saved?.data ?? (f.data as string);
  const batch = saved?.batch ?? recipe!.batch;
  const seed = saved?.seed ?? recipe!.seed;
  const shift = (saved as { shift?: number } | undefined)?.shift ?? recipe!.shift;

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
  const state = start?.state ?? new TokenizerState(config);
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

  if (tokens) console.error(`decoder only: the encoder and codebook of '${tokens.from}' (tokens of tokenizer ${tokens.checksum}) stay frozen`);
  const runConfig = { tokenizer: config, loss, data: dataSpec, batch, seed, shift, ...(tokens ? { tokens } : {}) };
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
