// A tokenizer training run inside the worker: the CLI's recipe (the flag defaults of `vqgpu
// train-tokenizer`, src/train/tokenizer-recipe.ts), its model (TokenizerState) and trainer
// (TokenizerTrainer), the shared batch loader over images decoded in the worker, and checkpoints in
// the CLI's format in OPFS. What the loop does per step is what the CLI's does: the next batch,
// the 'auto' learning-rate decay re-targeted to where the time budget ends, dead-code restarts every
// `restart-every` steps, at most one step in flight (rt.throttle). Only the reporting differs:
// progress, held-out reconstructions and checkpoints go to the page as messages.

import { BatchLoader, type ImageReader } from '../../../src/data/batch-loader.js';
import { runtime } from '../../../src/device/runtime.js';
import { decodeCheckpoint, encodeCheckpoint, expectRunKind, restoreCheckpoint, type LoadedCheckpoint } from '../../../src/io/checkpoint.js';
import { checkTokenizerConfig, type TokenizerConfig } from '../../../src/models/tokenizer/config.js';
import { usageStats } from '../../../src/models/tokenizer/quantizer.js';
import { reconstruct } from '../../../src/models/tokenizer/reconstruct.js';
import { TokenizerState } from '../../../src/models/tokenizer/state.js';
import { manualSeed } from '../../../src/nn/init.js';
import { tensor } from '../../../src/tensor/tensor.js';
import { StopEstimate } from '../../../src/train/stop-estimate.js';
import { flagDefaults, tokenizerRecipe } from '../../../src/train/tokenizer-recipe.js';
import { TokenizerTrainer, type LossConfig } from '../../../src/train/tokenizer-trainer.js';
import { decodePack, packFiles, type DecodedPack, type PackIndex } from './data-pack.js';
import { readDataPack, readLatestCheckpoint, saveCheckpointFile, saveDataPack, clearRun } from './opfs-run.js';
import type { DataChoice, FromWorker, SavedRun } from './protocol.js';

/**
 * Steps between progress reports, checkpoints and reconstruction pairs in the page. A report also
 * comes after REPORT_MS without one: on a slow adapter (the GLES compatibility path on a CPU) ten
 * steps, the first with every kernel's compilation, can take many seconds.
 */
export const LOG_EVERY = 10;
const REPORT_MS = 2000;
export const CHECKPOINT_EVERY = 250;
export const PAIRS_EVERY = 100;
/** held-out images shown beside their reconstructions */
const PAIRS = 8;

/** The run's config in the checkpoint: what the CLI writes (train-tokenizer's runConfig). */
export interface RunConfig { tokenizer: TokenizerConfig; loss: LossConfig; data: string; batch: number; seed: number; shift: number }
/**
 * The page's own state in the checkpoint's extras, beside the CLI's `loader` (which `--resume` reads).
 * `steps`: a budget in steps instead of seconds (automated checks: a run that stops at a given step
 * is deterministic — the decay ends there, as the CLI's `--steps` — where one that stops when its
 * time runs out is not); `checkpointEvery`: steps between checkpoints (default CHECKPOINT_EVERY).
 */
export interface WebExtra { source: 'emoji' | 'folder'; seconds: number; elapsed: number; history: [number, number][]; steps?: number; checkpointEvery?: number }

/** A run's budget: seconds of training, or (automated checks) a number of steps; checkpoint interval. */
export interface Budget { seconds: number; steps?: number; checkpointEvery?: number }

/** Whether a run has spent its budget. */
function finished(web: WebExtra, step: number): boolean {
  return web.steps ? step >= web.steps : web.elapsed >= web.seconds;
}

export type Post = (m: FromWorker, transfer?: Transferable[]) => void;

async function fetchBytes(url: string): Promise<Uint8Array<ArrayBuffer>> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`The bundled emoji set is missing from this build (GET ${url}: HTTP ${r.status}); pick a folder of images instead.`);
  return new Uint8Array(await r.arrayBuffer());
}

/** The data pack of a run: the emoji set from the page's server, a picked folder from OPFS. */
export async function openPack(source: 'emoji' | 'folder', size: number, post: Post): Promise<DecodedPack> {
  post({ type: 'status', text: source === 'emoji' ? 'fetching the emoji set…' : 'reading the images…' });
  let pack: { index: PackIndex; bytes: Uint8Array<ArrayBuffer> } | null;
  if (source === 'emoji') {
    const index = JSON.parse(new TextDecoder().decode(await fetchBytes('data/emoji.json'))) as PackIndex;
    pack = { index, bytes: await fetchBytes('data/emoji.pack') };
  } else {
    pack = await readDataPack();
    if (!pack) throw new Error("The saved run's images are no longer in the browser's storage; start a new run.");
  }
  return decodePack(pack.index, pack.bytes, size, (done, total) => post({ type: 'status', text: `decoding images: ${done} of ${total}` }));
}

export class TokenizerSession {
  private pauseRequested = false;
  private running = false;
  private readonly restartEvery: number;
  private readonly heldout: Float32Array;
  private readonly heldoutCount: number;

  private constructor(
    private readonly post: Post,
    private readonly state: TokenizerState,
    private readonly trainer: TokenizerTrainer,
    private readonly loader: BatchLoader,
    private readonly runConfig: RunConfig,
    private readonly web: WebExtra,
    read: ImageReader,
  ) {
    this.restartEvery = tokenizerRecipe(flagDefaults()).restartEvery;
    // The same held-out images every time (file order, as eval-tokenizer's figure), so the pairs show progress.
    const data = loader.data, opts = loader.opts;
    const split = data.items.some((it) => it.heldout) ? 'heldout' : 'train';
    const b = new BatchLoader(data, { size: opts.size, batch: PAIRS, split }, read).epoch().next().value;
    this.heldout = b?.images ?? new Float32Array(0);
    this.heldoutCount = b?.items.length ?? 0;
  }

  /** A new run on `choice` with a budget of `seconds` of training; the saved run is deleted first. */
  static async start(choice: DataChoice, budget: Budget, post: Post): Promise<TokenizerSession> {
    await clearRun();
    const recipe = tokenizerRecipe(flagDefaults());
    let source: 'emoji' | 'folder' = 'emoji', name = 'emoji';
    if (choice.kind === 'folder') {
      post({ type: 'status', text: `copying ${choice.files.length} files to the browser's storage…` });
      const pack = await packFiles(choice.name, choice.files);
      await saveDataPack(pack.index, pack.bytes);
      source = 'folder';
      name = choice.name;
    }
    const runConfig: RunConfig = { tokenizer: recipe.config, loss: recipe.loss, data: name, batch: recipe.batch, seed: recipe.seed, shift: recipe.shift };
    const { seconds, steps, checkpointEvery } = budget;
    return TokenizerSession.open(runConfig, { source, seconds, elapsed: 0, history: [], ...(steps ? { steps } : {}), ...(checkpointEvery ? { checkpointEvery } : {}) }, null, post);
  }

  /** The run saved in OPFS, described for the page (null: none). */
  static async saved(): Promise<SavedRun | null> {
    const found = await readLatestCheckpoint((bytes, file) => decodeCheckpoint(bytes, file));
    if (!found) return null;
    const c = found.value, web = (c.extra as { web?: WebExtra } | undefined)?.web;
    if (!web) return null;
    return { step: c.step, file: found.file, data: (c.config as RunConfig).data, seconds: web.seconds, elapsed: web.elapsed, history: web.history, finished: finished(web, c.step), steps: web.steps };
  }

  /** Continues the run saved in OPFS where its last checkpoint left it. */
  static async continueSaved(post: Post): Promise<TokenizerSession> {
    const found = await readLatestCheckpoint((bytes, file) => decodeCheckpoint(bytes, file));
    if (!found) throw new Error('There is no saved run in this browser to continue.');
    const ckpt = found.value;
    expectRunKind(ckpt, 'tokenizer', 'the saved run');
    const saved = ckpt.config as RunConfig;
    const web = (ckpt.extra as { web?: WebExtra }).web;
    if (!web) throw new Error(`${found.file} was not written by this page (no page state in it); start a new run.`);
    return TokenizerSession.open({ ...saved, tokenizer: checkTokenizerConfig(saved.tokenizer, found.file) }, web, ckpt, post);
  }

  private static async open(runConfig: RunConfig, web: WebExtra, ckpt: LoadedCheckpoint | null, post: Post): Promise<TokenizerSession> {
    const { tokenizer: config, loss, batch, seed, shift } = runConfig;
    const pack = await openPack(web.source, config.size, post);
    post({ type: 'data', name: runConfig.data, images: pack.data.items.length, train: pack.data.items.filter((it) => !it.heldout).length, bad: pack.bad });
    const read = readerOf(pack);
    const loader = new BatchLoader(pack.data, { size: config.size, batch, split: 'train', seed, flip: true, shift }, read);
    manualSeed(seed); // as the CLI: the same initial weights for the same seed
    const state = new TokenizerState(config);
    const useDisc = loss.perceptual > 0 || loss.adversarial > 0;
    const trainer = new TokenizerTrainer(state.vqvae, useDisc ? state.disc : null, loss);
    if (ckpt) {
      restoreCheckpoint(ckpt, { model: state, optimizers: optimizersOf(trainer) });
      trainer.step = ckpt.step;
      loader.setState((ckpt.extra as { loader: { epoch: number; pos: number } }).loader);
    }
    return new TokenizerSession(post, state, trainer, loader, runConfig, web, read);
  }

  /** Frees the run's GPU memory (before another run starts in the same worker). */
  dispose(): void {
    this.trainer.optG.dispose();
    this.trainer.optD?.dispose();
    this.state.dispose();
  }

  pause(): void {
    if (this.running) this.pauseRequested = true;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Trains until the budget is spent (→ 'done') or a pause is asked for (→ 'paused'); checkpoints at both. */
  async run(): Promise<void> {
    if (this.running) return;
    if (finished(this.web, this.trainer.step)) {
      this.post({ type: 'done', step: this.trainer.step, elapsed: this.web.elapsed });
      return;
    }
    this.running = true;
    this.pauseRequested = false;
    const rt = runtime(), trainer = this.trainer, { batch, tokenizer: config, loss } = this.runConfig;
    const startElapsed = this.web.elapsed, t0 = Date.now();
    const stopAt = this.web.steps ?? Infinity, startStep = trainer.step;
    const deadline = this.web.steps ? Infinity : t0 + (this.web.seconds - startElapsed) * 1000;
    const checkpointEvery = this.web.checkpointEvery ?? CHECKPOINT_EVERY;
    // 'auto' decay: to where this stretch of the budget ends, re-estimated as it goes (as `--minutes`
    // in the CLI); with a step budget, to that step (as `--steps`).
    const stopEstimate = loss.decaySteps === 'auto' ? new StopEstimate({ startStep, stopAt, deadline }) : null;
    const every = (n: number) => n > 0 && trainer.step % n === 0;
    let lastLog = t0, lastLogStep = trainer.step;
    /** The mean losses since the last report, to the page (and the curve's history in the checkpoint). */
    const report = async () => {
      const l = await trainer.takeLosses();
      const u = usageStats(await this.state.vqvae.quantizer.takeUsage());
      if (!Number.isFinite(l.rec)) throw new Error(`The loss became ${l.rec} at step ${trainer.step}; training stopped (the last checkpoint is kept).`);
      const now = Date.now();
      const ips = ((trainer.step - lastLogStep) * batch) / Math.max((now - lastLog) / 1000, 1e-3);
      lastLog = now;
      lastLogStep = trainer.step;
      this.web.history.push([trainer.step, l.rec]);
      const left = this.web.steps ? ((stopAt - trainer.step) * (now - t0)) / Math.max(trainer.step - startStep, 1) / 1000 : (deadline - now) / 1000;
      this.post({ type: 'progress', step: trainer.step, loss: l.rec, usage: u.usage, imagesPerSecond: ips, elapsed: this.web.elapsed, left: Math.max(0, left) });
    };
    this.post({ type: 'running', step: trainer.step });
    try {
      while (trainer.step < stopAt && Date.now() < deadline && !this.pauseRequested) {
        const b = this.loader.next();
        const x = tensor(b.images, [batch, 3, config.size, config.size]);
        const end = stopEstimate?.at(trainer.step);
        if (end != null) trainer.setDecaySteps(end);
        trainer.train(x, every(this.restartEvery));
        x.dispose();
        await rt.throttle(); // at most one step in flight; the worker's messages are handled here
        this.web.elapsed = startElapsed + (Date.now() - t0) / 1000;
        if (every(LOG_EVERY) || Date.now() - lastLog >= REPORT_MS) await report();
        if (every(checkpointEvery)) await this.checkpoint();
        if (every(PAIRS_EVERY)) await this.pairs();
      }
      this.web.elapsed = startElapsed + (Date.now() - t0) / 1000;
      if (!this.web.steps) this.web.elapsed = Math.min(this.web.seconds, this.web.elapsed);
      if (trainer.step > lastLogStep) await report(); // the loss where the run stops is on the curve
      await this.checkpoint();
      await this.pairs();
      this.post(this.pauseRequested ? { type: 'paused', step: trainer.step } : { type: 'done', step: trainer.step, elapsed: this.web.elapsed });
    } finally {
      this.running = false;
    }
  }

  /** Writes the checkpoint of this step to OPFS (the CLI's format: `train-tokenizer --resume` reads it). */
  private async checkpoint(): Promise<void> {
    const bytes = await encodeCheckpoint({
      model: this.state, optimizers: optimizersOf(this.trainer), step: this.trainer.step,
      config: this.runConfig, extra: { loader: this.loader.state, web: this.web },
    });
    const file = await saveCheckpointFile(this.trainer.step, bytes as Uint8Array<ArrayBuffer>);
    this.post({ type: 'checkpoint', step: this.trainer.step, file, bytes: bytes.length });
  }

  /** The held-out images and their reconstructions now (eval mode: the training state is untouched). */
  private async pairs(): Promise<void> {
    if (!this.heldoutCount) return;
    const recon = await reconstruct(this.state.vqvae, this.heldout, this.heldoutCount);
    const images = this.heldout.slice();
    this.post({ type: 'pairs', step: this.trainer.step, size: this.runConfig.tokenizer.size, n: this.heldoutCount, images, recon }, [images.buffer, recon.buffer]);
  }
}

function optimizersOf(t: TokenizerTrainer) {
  return { g: t.optG, ...(t.optD ? { d: t.optD } : {}) };
}

/** The loader's image source: the decoded pack; a file that did not decode throws its reason (the loader skips it). */
export function readerOf(pack: DecodedPack): ImageReader {
  const why = new Map(pack.bad);
  return (it: { key: string }, size: number) => {
    const data = pack.images.get(it.key);
    if (!data) throw new Error(why.get(it.key) ?? `${it.key}: not decoded`);
    return { size, data };
  };
}
