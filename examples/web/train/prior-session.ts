// The prior stages inside the worker, after the tokenizer: encode the training images with the
// tokenizer saved in OPFS (as `vqgpu encode`: every image of both splits → its token grid, in a
// token cache), train an AR prior on them (as `vqgpu train-prior --kind ar` with its default
// flags: the same model, run config, batch draw, schedule and checkpoints; class-conditional when
// the data has classes, as `--class-cond`), then draw a grid of samples from it (as `vqgpu sample`:
// classes drawn from the training frequencies, the default guidance) and decode them. Checkpoints
// go to `vqgpu/prior/` in OPFS in the CLI's format, beside the token cache, so the download is a run
// folder `vqgpu sample --tokenizer vqgpu-tokenizer --prior vqgpu-prior` reads.

import { BatchLoader } from '../../../src/data/batch-loader.js';
import { decodeTokenCache, encodeTokenCache, splitTokens, type TokenCache } from '../../../src/data/token-cache.js';
import { runtime } from '../../../src/device/runtime.js';
import { checksumOfBytes } from '../../../src/io/checksum.js';
import { decodeCheckpoint, encodeCheckpoint, expectRunKind, restoreCheckpoint } from '../../../src/io/checkpoint.js';
import { classFrequencies, classNames, conditionTokens, describeGuidance, drawClasses, guidanceOf } from '../../../src/models/prior/classes.js';
import { checkPriorConfig, kindLabel, variantKind, type PriorVariant } from '../../../src/models/prior/config.js';
import { NoiseRng } from '../../../src/models/prior/noise.js';
import { Prior } from '../../../src/models/prior/prior.js';
import { decodeTokens, encodeImages } from '../../../src/models/tokenizer/batched-codec.js';
import { checkTokenizerConfig, inferenceBatch } from '../../../src/models/tokenizer/config.js';
import { TokenizerState } from '../../../src/models/tokenizer/state.js';
import { manualSeed } from '../../../src/nn/init.js';
import { defaultGenerator, type GeneratorState } from '../../../src/ops/random.js';
import { drawTokens } from '../../../src/sample/draw-from-prior.js';
import { DIFFUSION_SAMPLER_DEFAULTS } from '../../../src/sample/diffusion.js';
import { drawPriorBatch, newPriorRun, priorTrainerFor, restorePriorTraining, type PriorRunConfig } from '../../../src/train/prior-run.js';
import { makeBatch, PriorTrainer } from '../../../src/train/prior-trainer.js';
import { StopEstimate } from '../../../src/train/stop-estimate.js';
import { clearRunFolder, readLatestCheckpoint, readRunFile, saveCheckpointFile, saveRunFile, TOKENS } from './opfs-run.js';
import type { SavedRun } from './protocol.js';
import { CHECKPOINT_EVERY, LOG_EVERY, openPack, readerOf, type Budget, type Post, type RunConfig as TokenizerRunConfig, type WebExtra } from './session.js';

const REPORT_MS = 2000;
/** images in the sample grid the page shows at the end */
export const SAMPLES = 16;
/** `vqgpu encode --batch`'s default (cut further to the device's binding limit) */
const ENCODE_BATCH = 64;

/** The page's state in the prior's checkpoint extras: the budget, training time spent, the loss curve. */
interface PriorWebExtra { seconds: number; steps?: number; elapsed: number; history: [number, number][]; checkpointEvery?: number }

/** The tokenizer saved in OPFS (its newest checkpoint's bytes, for the checksum), loaded for inference. */
async function savedTokenizer() {
  const found = await readLatestCheckpoint((bytes, file) => ({ bytes, ckpt: decodeCheckpoint(bytes, file) }));
  if (!found) throw new Error('Train a tokenizer first: the prior is trained on the tokens of the tokenizer saved in this browser.');
  const { bytes, ckpt } = found.value;
  expectRunKind(ckpt, 'tokenizer', 'the saved run');
  const config = checkTokenizerConfig((ckpt.config as TokenizerRunConfig).tokenizer, found.file);
  const web = (ckpt.extra as { web?: WebExtra }).web;
  if (!web) throw new Error(`${found.file} was not written by this page; train a tokenizer here first.`);
  const tokenizer = new TokenizerState(config);
  restoreCheckpoint(ckpt, { model: tokenizer });
  tokenizer.vqvae.eval();
  return { bytes, ckpt, config, tokenizer, web };
}

export class PriorSession {
  private pauseRequested = false;
  private running = false;
  private readonly rng: NoiseRng;
  private readonly train: ReturnType<typeof splitTokens>;

  private constructor(
    private readonly post: Post,
    private readonly tokenizer: TokenizerState,
    private readonly cache: TokenCache,
    private readonly cfg: PriorRunConfig,
    private readonly prior: Prior,
    private readonly trainer: PriorTrainer,
    private readonly web: PriorWebExtra,
  ) {
    this.rng = new NoiseRng(cfg.seed * 7919 + 1); // train-prior's noise stream for the same seed (a resumed run sets its state)
    this.train = splitTokens(cache, 'train');
  }

  /**
   * A new prior on the tokens of the tokenizer saved in OPFS (its newest checkpoint): encodes its
   * data set, writes the cache, and builds the run (the old prior run, if any, is replaced).
   */
  static async start(variant: PriorVariant, budget: Budget, post: Post): Promise<PriorSession> {
    const { bytes, ckpt, config, tokenizer, web } = await savedTokenizer();
    // encode (as `vqgpu encode --run vqgpu-tokenizer`: both splits, the data set the tokenizer trained on)
    const pack = await openPack(web.source, config.size, post);
    const batch = inferenceBatch(config, ENCODE_BATCH, runtime().maxBindingBytes);
    const loader = new BatchLoader(pack.data, { size: config.size, batch, split: 'all' }, readerOf(pack));
    post({ type: 'status', text: `encoding ${pack.data.items.length - pack.bad.length} images with the tokenizer of step ${ckpt.step}…` });
    const t0 = Date.now();
    const { tokens, items } = await encodeImages(tokenizer.vqvae, loader);
    const cache: TokenCache = {
      header: {
        version: 1, codebook: config.codebook, grid: config.grid,
        tokenizer: { checksum: await checksumOfBytes(bytes), step: ckpt.step, path: 'vqgpu-tokenizer' },
        labels: pack.data.labels, items,
      },
      tokens,
    };
    await clearRunFolder('prior');
    await saveRunFile('prior', TOKENS, encodeTokenCache(cache) as Uint8Array<ArrayBuffer>);
    const held = items.filter((it) => it.split === 'heldout').length;
    post({ type: 'prior-data', images: items.length, heldout: held, grid: config.grid, classes: cache.header.labels, seconds: (Date.now() - t0) / 1000 });

    // the run: train-prior's defaults for this --kind (and --noise), class-conditional when the data has classes
    const run = newPriorRun(cache, { ...variantKind(variant), classCond: cache.header.labels.length > 0, totalSteps: budget.steps });
    manualSeed(run.seed); // as the CLI: the same initial weights and dropout masks for the same seed
    defaultGenerator().manualSeed(run.seed);
    const prior = new Prior(run.prior);
    const trainer = priorTrainerFor(prior, run);
    const pweb: PriorWebExtra = { seconds: budget.seconds, elapsed: 0, history: [], ...(budget.steps ? { steps: budget.steps } : {}), ...(budget.checkpointEvery ? { checkpointEvery: budget.checkpointEvery } : {}) };
    post({ type: 'status', text: `${kindLabel(run.prior)} prior: ${prior.numParameters().toLocaleString()} parameters, ${items.length - held} training grids of ${config.grid}×${config.grid} tokens` + (run.prior.classes ? `, ${run.prior.classes} classes` : '') });
    return new PriorSession(post, tokenizer, cache, run, prior, trainer, pweb);
  }

  /** The prior saved in OPFS, described for the page (null: none). */
  static async saved(): Promise<SavedRun | null> {
    const found = await readLatestCheckpoint((bytes, file) => decodeCheckpoint(bytes, file), 'prior');
    const web = (found?.value.extra as { web?: PriorWebExtra } | undefined)?.web;
    if (!found || !web) return null;
    const step = found.value.step;
    return { step, file: found.file, data: 'prior', seconds: web.seconds, elapsed: web.elapsed, history: web.history, finished: web.steps ? step >= web.steps : web.elapsed >= web.seconds, steps: web.steps };
  }

  /** Continues the prior saved in OPFS where its last checkpoint left it (as `train-prior --resume`), on the tokenizer saved beside it. */
  static async continueSaved(post: Post): Promise<PriorSession> {
    const found = await readLatestCheckpoint((bytes, file) => decodeCheckpoint(bytes, file), 'prior');
    if (!found) throw new Error('There is no saved prior in this browser to continue.');
    const ckpt = found.value;
    expectRunKind(ckpt, 'prior', 'the saved prior');
    const web = (ckpt.extra as { web?: PriorWebExtra } | undefined)?.web;
    if (!web) throw new Error(`${found.file} was not written by this page; train a new prior.`);
    const saved = ckpt.config as PriorRunConfig;
    const run: PriorRunConfig = { ...saved, prior: checkPriorConfig(saved.prior, found.file) };
    const cacheBytes = await readRunFile('prior', TOKENS);
    if (!cacheBytes) throw new Error("The saved prior's token cache is missing from this browser's storage; train a new prior.");
    const cache = decodeTokenCache(cacheBytes, "the saved prior's token cache");
    const tok = await savedTokenizer();
    if ((await checksumOfBytes(tok.bytes)) !== run.prior.tokenizerChecksum) {
      tok.tokenizer.dispose();
      throw new Error('The tokenizer saved in this browser is not the one the saved prior was trained on (it was retrained since); train a new prior.');
    }
    manualSeed(run.seed);
    defaultGenerator().manualSeed(run.seed);
    const prior = new Prior(run.prior);
    const trainer = priorTrainerFor(prior, run);
    restorePriorTraining(ckpt, trainer);
    const session = new PriorSession(post, tok.tokenizer, cache, run, prior, trainer, web);
    const rng = ckpt.rng as { noise: number; gpu: GeneratorState };
    session.rng.state = rng.noise; // the batch draw and the dropout masks continue where they stopped
    defaultGenerator().setState(rng.gpu);
    post({ type: 'status', text: `continuing the prior from ${found.file}` });
    return session;
  }

  dispose(): void {
    this.trainer.dispose();
    this.prior.dispose();
    this.tokenizer.dispose();
  }

  pause(): void {
    if (this.running) this.pauseRequested = true;
  }

  get isRunning(): boolean {
    return this.running;
  }

  private finished(): boolean {
    return this.web.steps ? this.trainer.step >= this.web.steps : this.web.elapsed >= this.web.seconds;
  }

  /** Trains until the budget is spent (then samples → 'done') or a pause is asked for (→ 'paused'); checkpoints at both. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.pauseRequested = false;
    try {
      if (!this.finished()) await this.trainStretch();
      if (this.pauseRequested) {
        this.post({ type: 'paused', step: this.trainer.step, stage: 'prior' });
        return;
      }
      await this.samples();
      this.post({ type: 'done', step: this.trainer.step, elapsed: this.web.elapsed, stage: 'prior' });
    } finally {
      this.running = false;
    }
  }

  private async trainStretch(): Promise<void> {
    const { trainer, cfg: run, web } = this, rt = runtime();
    const L = run.prior.grid ** 2, B = run.batch;
    const labelDrop = run.prior.classes > 0 ? run.prior.labelDrop ?? 0 : 0;
    const startElapsed = web.elapsed, t0 = Date.now(), startStep = trainer.step;
    const stopAt = web.steps ?? Infinity;
    const deadline = web.steps ? Infinity : t0 + (web.seconds - startElapsed) * 1000;
    const checkpointEvery = web.checkpointEvery ?? CHECKPOINT_EVERY;
    // the cosine ends where the time budget does (train-prior --minutes alone), or at the step budget
    const stopEstimate = run.scheduleAuto && !web.steps ? new StopEstimate({ startStep, stopAt, deadline }) : null;
    const x = new Int32Array(B * L), labels = new Int32Array(B);
    let lastLog = t0, lastLogStep = startStep;
    const report = async () => {
      const loss = await trainer.takeLoss();
      if (!Number.isFinite(loss)) throw new Error(`The prior's loss became ${loss} at step ${trainer.step}; training stopped (the last checkpoint is kept).`);
      const now = Date.now();
      const tps = ((trainer.step - lastLogStep) * B * L) / Math.max((now - lastLog) / 1000, 1e-3);
      lastLog = now;
      lastLogStep = trainer.step;
      web.history.push([trainer.step, loss]);
      const left = web.steps ? ((stopAt - trainer.step) * (now - t0)) / Math.max(trainer.step - startStep, 1) / 1000 : (deadline - now) / 1000;
      this.post({ type: 'prior-progress', step: trainer.step, loss, tokensPerSecond: tps, elapsed: web.elapsed, left: Math.max(0, left) });
    };
    this.post({ type: 'running', step: trainer.step, stage: 'prior' });
    while (trainer.step < stopAt && Date.now() < deadline && !this.pauseRequested) {
      drawPriorBatch(this.train, this.rng, x, labels, labelDrop);
      const end = stopEstimate?.at(trainer.step);
      if (end != null) trainer.setDecaySteps(end);
      trainer.train(makeBatch(run.prior, x, labels, this.rng));
      await rt.throttle(); // at most one step in flight; the worker's messages (Pause) are handled here
      web.elapsed = startElapsed + (Date.now() - t0) / 1000;
      if (trainer.step % LOG_EVERY === 0 || Date.now() - lastLog >= REPORT_MS) await report();
      if (trainer.step % checkpointEvery === 0) await this.checkpoint();
    }
    web.elapsed = startElapsed + (Date.now() - t0) / 1000;
    if (!web.steps) web.elapsed = Math.min(web.seconds, web.elapsed);
    if (trainer.step > lastLogStep) await report();
    await this.checkpoint();
  }

  /** The prior's checkpoint in OPFS: what `train-prior` writes (model, optimizer, step, both RNG states, run config). */
  private async checkpoint(): Promise<void> {
    const bytes = await encodeCheckpoint({
      model: this.prior, ema: this.trainer.ema?.shadow, optimizer: this.trainer.opt, step: this.trainer.step,
      rng: { noise: this.rng.state, gpu: defaultGenerator().getState() }, config: this.cfg, extra: { web: this.web },
    });
    const file = await saveCheckpointFile(this.trainer.step, bytes as Uint8Array<ArrayBuffer>, 2, 'prior');
    this.post({ type: 'checkpoint', step: this.trainer.step, file, bytes: bytes.length, stage: 'prior' });
  }

  /** A grid of new images, as `vqgpu sample --n 16 --seed 0` draws them (classes from the training frequencies, default guidance). */
  private async samples(): Promise<void> {
    const c = this.cfg.prior, seed = 0;
    this.prior.eval();
    let labels: Int32Array = new Int32Array(SAMPLES).fill(-1);
    if (c.classes > 0) labels = drawClasses(classFrequencies(c, this.cache).counts, SAMPLES, seed);
    const guidance = guidanceOf(c);
    this.post({ type: 'status', text: `sampling ${SAMPLES} images${guidance ? ` (${describeGuidance(guidance)})` : ''}…` });
    const t0 = Date.now();
    const { tokens } = await drawTokens(this.prior, SAMPLES, { start: conditionTokens(c, labels), guidance, temperature: 1, topK: 0, topP: 1, seed, steps: DIFFUSION_SAMPLER_DEFAULTS.steps });
    const images = await decodeTokens(this.tokenizer.vqvae, tokens, SAMPLES);
    this.prior.train();
    const names = c.classes > 0 ? classNames(c, this.cache) : [];
    this.post(
      { type: 'samples', step: this.trainer.step, size: this.tokenizer.config.size, n: SAMPLES, images, labels: Array.from(labels, (l) => names[l] ?? ''), seconds: (Date.now() - t0) / 1000 },
      [images.buffer],
    );
  }
}
