// The "Train" view: pick the data (the bundled emoji set or a folder of images), then train the
// tokenizer in a worker with start / pause / resume, watching its loss curve, images/s, the time
// left, and held-out images beside their reconstructions; "Download run" gives the run folder
// (the newest checkpoint and latest.json, as a ZIP) that `vqgpu train-tokenizer --resume`,
// `eval-tokenizer` and `encode` read. "Train prior" then encodes the data with that tokenizer,
// trains an AR prior on the tokens and samples from it in the same worker (prior-session.ts; its
// display: prior-panel.ts); "Download prior" gives its run folder for `vqgpu sample`.
// The main thread here only handles clicks and draws what the
// worker sends (a few small canvases per report), so the page stays responsive while training.
// `?train=…` runs it on its own for automated checks (automate*(); the modes: main.ts).

import { imageGrid, joinPanels } from '../../../src/data/figure.js';
import { download, paint } from '../draw.js';
import { drawLossChart } from './loss-chart.js';
import { runFolderFiles, type RunName } from './opfs-run.js';
import { PriorPanel, type PriorHooks } from './prior-panel.js';
import { fromDrop, fromFolderInput, type PickedFolder } from './pick-folder.js';
import type { PriorVariant } from '../../../src/models/prior/config.js';
import type { DataChoice, FromWorker, Progress, SavedRun, ToWorker } from './protocol.js';
import { zipStore } from './zip.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const mmss = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

/** What the page exposes to tests as window.vqgpuTrain. */
export interface TrainHooks {
  adapter: string;
  /** [step, loss] of every report, in order (after a reload: the saved run's history first) */
  losses: [number, number][];
  imagesPerSecond: number[];
  /** main-thread long tasks (PerformanceObserver 'longtask') that started while training: [start ms, duration ms] */
  longTasks: [number, number][];
  /** the last held-out images and their reconstructions the worker sent */
  pairs: { step: number; size: number; n: number; images: number[]; recon: number[] } | null;
  bad: [string, string][];
  /** the data set as the worker opened it: its name, image files, and those in the training split */
  data: { name: string; images: number; train: number } | null;
  checkpoints: string[];
  /** the worker's state changes in order: 'running@<step>', 'paused@<step>', 'done@<step>', 'device-lost', 'error' */
  events: string[];
  /** the prior stage (encode, train, sample) */
  prior: PriorHooks;
  /** the download's bytes, as base64 (what the button saves): the tokenizer's run, or the prior's */
  runZipBase64(run?: RunName): Promise<string>;
}

type Phase = 'booting' | 'idle' | 'loading' | 'running' | 'pausing' | 'paused' | 'done' | 'error';

export class TrainTab {
  private readonly worker: Worker;
  private phase: Phase = 'booting';
  private saved: SavedRun | null = null;
  private savedPrior: SavedRun | null = null;
  private picked: PickedFolder | null = null;
  private hasCheckpoint = false;
  private trainingSince: number | null = null;
  private onFinish: ((m: FromWorker) => void) | null = null;
  private readonly priorPanel = new PriorPanel();
  /** which run the worker is on (Pause/Resume act on it) */
  private stage: 'tokenizer' | 'prior' = 'tokenizer';
  private whenReady!: Promise<void>;
  /**
   * Set by the page when it has a Sample view (not in the `?train=` checks): loads these files (the
   * tokenizer's and the prior's newest checkpoints, and the prior's token cache) there.
   */
  onUseTrained: ((files: { name: string; bytes: Uint8Array }[]) => Promise<void>) | null = null;
  /** automated checks (`?train=…&steps=N`): the Start button's runs get this step budget and checkpoint interval */
  testBudget: { steps?: number; checkpointEvery?: number; priorSteps?: number; loseDeviceAt?: number; priorKind?: PriorVariant } = {};
  readonly hooks: TrainHooks = {
    adapter: '', losses: [], imagesPerSecond: [], longTasks: [], pairs: null, bad: [], data: null, checkpoints: [], events: [],
    prior: this.priorPanel.hooks,
    runZipBase64: async (run: RunName = 'tokenizer') => toBase64(await this.runZip(run)),
  };

  constructor() {
    this.observeLongTasks();
    this.worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
    this.whenReady = new Promise((resolve) => {
      this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
        this.handle(e.data);
        if (e.data.type === 'ready' || e.data.type === 'error') resolve();
      };
    });
    this.worker.onerror = (e) => this.handle({ type: 'error', message: `the training worker failed to start (${e.message || 'no message'})` });
    $('train-start').addEventListener('click', () => this.start());
    $('train-pause').addEventListener('click', () => this.send({ type: 'pause' }, 'pausing'));
    $('train-resume').addEventListener('click', () => this.send(this.continueMessage(), 'loading'));
    $('train-download').addEventListener('click', () => void this.download('tokenizer'));
    $('prior-start').addEventListener('click', () => this.startPrior());
    $('prior-download').addEventListener('click', () => void this.download('prior'));
    $('prior-use').addEventListener('click', () => void this.useTrained());
    $<HTMLInputElement>('train-folder').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      // (the list is taken now: pick() runs it later, and clearing the input empties `files`)
      const files = Array.from(input.files ?? []);
      this.pick(() => fromFolderInput(files));
      input.value = '';
    });
    $<HTMLInputElement>('train-emoji').addEventListener('change', () => this.choose(null));
    const drop = $('train-drop');
    drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      const items = e.dataTransfer?.items;
      if (items) this.pick(() => fromDrop(items));
    });
    drawLossChart($<HTMLCanvasElement>('train-loss'), []);
    drawLossChart($<HTMLCanvasElement>('prior-loss'), []);
    this.render();
  }

  /** `?train=prior`: after the tokenizer, the prior stage (testBudget's or `seconds` of training); resolves with the final message. */
  async automatePrior(seconds: number): Promise<FromWorker> {
    return this.untilFinished(() => this.startPriorWith(seconds));
  }

  /** `?train=1`: a fresh run on the emoji set for `seconds` of training (or testBudget's steps); resolves with the final message. */
  async automate(seconds: number): Promise<FromWorker> {
    await this.whenReady;
    if (this.phase === 'error') return { type: 'error', message: $('train-info').textContent ?? 'the worker failed' };
    $<HTMLInputElement>('train-emoji').checked = true;
    this.choose(null);
    return this.untilFinished(() => this.startWith({ kind: 'emoji' }, seconds));
  }

  /** What Resume sends: resume a paused session, else continue the saved run (the prior's when it is unfinished). */
  private continueMessage(): ToWorker {
    if (this.phase === 'paused') return { type: 'resume' };
    return this.stage === 'prior' ? { type: 'continue-prior' } : { type: 'continue' };
  }

  /** `?train=continue`: continues the run saved in OPFS (after a reload); resolves with the final message. */
  async automateContinue(): Promise<FromWorker> {
    await this.whenReady;
    if (this.phase === 'error') return { type: 'error', message: $('train-info').textContent ?? 'the worker failed' };
    if (!this.saved) return { type: 'error', message: 'no saved run to continue' };
    return this.untilFinished(() => this.send(this.continueMessage(), 'loading'));
  }

  /** Resolves with the next 'done' or 'error' after `go` (a pause in between does not end the wait). */
  untilFinished(go: () => void): Promise<FromWorker> {
    return new Promise((resolve) => {
      this.onFinish = resolve;
      go();
    });
  }

  private observeLongTasks(): void {
    try {
      new PerformanceObserver((list) => {
        for (const t of list.getEntries()) {
          if (this.trainingSince !== null && t.startTime >= this.trainingSince) this.hooks.longTasks.push([t.startTime, t.duration]);
        }
      }).observe({ type: 'longtask', buffered: true });
    } catch {
      // (browsers without the Long Tasks API: nothing to record)
    }
  }

  private pick(get: () => PickedFolder | Promise<PickedFolder>): void {
    Promise.resolve()
      .then(get)
      .then((f) => this.choose(f), (e: Error) => this.info(e.message, true));
  }

  private choose(folder: PickedFolder | null): void {
    this.picked = folder;
    $<HTMLInputElement>('train-emoji').checked = !folder;
    this.info(folder ? `Picked '${folder.name}': ${folder.files.length} image files.` : 'The emoji set: the Twemoji images `vqgpu train-tokenizer --data emoji` trains on (their categories are the classes).');
  }

  private start(): void {
    const minutes = Number($<HTMLInputElement>('train-minutes').value);
    if (!(minutes > 0)) return this.info('Give the run a time budget in minutes (more than 0).', true);
    const data: DataChoice = this.picked ? { kind: 'folder', name: this.picked.name, files: this.picked.files } : { kind: 'emoji' };
    this.startWith(data, minutes * 60);
  }

  private startPrior(): void {
    const minutes = Number($<HTMLInputElement>('prior-minutes').value);
    if (!(minutes > 0)) return this.info('Give the prior a time budget in minutes (more than 0).', true);
    this.startPriorWith(minutes * 60);
  }

  private startPriorWith(seconds: number): void {
    this.stage = 'prior';
    this.savedPrior = null;
    this.priorPanel.reset();
    const kind = this.testBudget.priorKind ?? ($<HTMLSelectElement>('prior-kind').value as PriorVariant);
    this.send({ type: 'prior', kind, seconds, steps: this.testBudget.priorSteps, checkpointEvery: this.testBudget.checkpointEvery }, 'loading');
  }

  private startWith(data: DataChoice, seconds: number): void {
    this.stage = 'tokenizer';
    this.savedPrior = null;
    this.hooks.losses = [];
    this.hooks.imagesPerSecond = [];
    this.hooks.bad = [];
    this.hasCheckpoint = false;
    drawLossChart($<HTMLCanvasElement>('train-loss'), []);
    const { steps, checkpointEvery } = this.testBudget;
    this.send({ type: 'start', data, seconds, steps, checkpointEvery }, 'loading');
  }

  private send(m: ToWorker, phase: Phase): void {
    this.phase = phase;
    this.worker.postMessage(m);
    this.render();
  }

  private handle(m: FromWorker): void {
    if (this.priorPanel.handle(m)) return this.render(); // (the prior's own messages: drawn by its panel)
    switch (m.type) {
      case 'ready':
        this.hooks.adapter = m.adapter;
        this.saved = m.saved;
        this.hasCheckpoint = !!m.saved;
        this.phase = 'idle';
        $('train-adapter').textContent = `Training runs in a worker on ${m.adapter}.`;
        if (m.saved) {
          this.hooks.losses = [...m.saved.history];
          drawLossChart($<HTMLCanvasElement>('train-loss'), this.hooks.losses);
        }
        this.savedPrior = m.savedPrior;
        if (m.savedPrior) {
          this.priorPanel.restore(m.savedPrior);
          // an unfinished prior is what Resume continues (its tokenizer is done: the prior follows it)
          if (!m.savedPrior.finished) this.stage = 'prior';
        }
        break;
      case 'status':
        this.info(m.text);
        break;
      case 'data':
        this.hooks.bad = m.bad;
        this.hooks.data = { name: m.name, images: m.images, train: m.train };
        this.info(`${m.name}: ${m.images} images (${m.train} for training, the rest held out)` +
          (m.bad.length ? `; skipped ${m.bad.length} bad file(s): ${m.bad.map(([, why]) => why).join('; ')}` : '.'), m.bad.length > 0);
        break;
      case 'running':
        this.hooks.events.push(`${m.stage ? 'prior:' : ''}running@${m.step}`);
        this.phase = 'running';
        this.trainingSince ??= performance.now();
        break;
      case 'progress':
        this.progress(m);
        break;
      case 'pairs':
        this.hooks.pairs = { step: m.step, size: m.size, n: m.n, images: Array.from(m.images), recon: Array.from(m.recon) };
        paint($<HTMLCanvasElement>('train-pairs'), joinPanels([imageGrid(m.images, m.n, m.size, m.n, 2, 2), imageGrid(m.recon, m.n, m.size, m.n, 2, 2)], 'column', 4));
        $('train-pairs-step').textContent = `at step ${m.step}`;
        break;
      case 'checkpoint':
        this.hasCheckpoint = true;
        this.hooks.checkpoints.push(m.file);
        // automated checks (`lose-device=K`): the device is lost once, after the checkpoint of step K or later
        if (this.testBudget.loseDeviceAt !== undefined && m.step >= this.testBudget.loseDeviceAt) {
          this.testBudget.loseDeviceAt = undefined;
          this.worker.postMessage({ type: 'lose-device' } satisfies ToWorker);
        }
        $('train-saved').textContent = `Saved ${m.file} (${(m.bytes / 1e6).toFixed(1)} MB) in this browser's storage: a reload continues from it.`;
        break;
      case 'paused':
        this.hooks.events.push(`${m.stage ? 'prior:' : ''}paused@${m.step}`);
        this.phase = 'paused';
        break;
      case 'done':
        this.hooks.events.push(`${m.stage ? 'prior:' : ''}done@${m.step}`);
        this.phase = 'done';
        this.info(m.stage
          ? `The prior is done: ${m.step} steps in ${mmss(m.elapsed)} of training; its samples are on the right. Download it for \`vqgpu sample\`.`
          : `Done: ${m.step} steps in ${mmss(m.elapsed)} of training. Download the run for the CLI, train a prior on its tokens, or start another.`);
        this.trainingSince = null;
        break;
      case 'device-lost':
        this.hooks.events.push('device-lost');
        this.info(m.message, true);
        break;
      case 'error':
        this.hooks.events.push('error');
        this.phase = this.phase === 'booting' ? 'error' : 'idle';
        this.info(m.message, true);
        this.trainingSince = null;
        break;
    }
    if ((m.type === 'done' || m.type === 'error') && this.onFinish) {
      this.onFinish(m);
      this.onFinish = null;
    }
    this.render();
  }

  private progress(p: Progress): void {
    this.hooks.losses.push([p.step, p.loss]);
    this.hooks.imagesPerSecond.push(p.imagesPerSecond);
    drawLossChart($<HTMLCanvasElement>('train-loss'), this.hooks.losses);
    $('train-stats').textContent = `step ${p.step} · reconstruction loss ${p.loss.toFixed(4)} · ${p.imagesPerSecond.toFixed(0)} images/s · ` +
      `codes used ${(p.usage * 100).toFixed(0)}% · ${mmss(p.elapsed)} trained, ${mmss(p.left)} left`;
  }

  private render(): void {
    const p = this.phase;
    const idle = p === 'idle' || p === 'paused' || p === 'done';
    ($('train-start') as HTMLButtonElement).disabled = !idle;
    ($('train-pause') as HTMLButtonElement).disabled = p !== 'running';
    const unfinished = !!this.saved && !this.saved.finished;
    ($('prior-start') as HTMLButtonElement).disabled = !idle || !this.hasCheckpoint;
    ($('prior-download') as HTMLButtonElement).disabled = !this.priorPanel.hasCheckpoint || p === 'booting';
    ($('prior-use') as HTMLButtonElement).disabled = !this.onUseTrained || !this.priorPanel.hasCheckpoint || !idle;
    const priorUnfinished = !!this.savedPrior && !this.savedPrior.finished;
    ($('train-resume') as HTMLButtonElement).disabled = !(p === 'paused' || (p === 'idle' && (this.stage === 'prior' ? priorUnfinished : unfinished)));
    ($('train-download') as HTMLButtonElement).disabled = !this.hasCheckpoint || p === 'booting';
    $('train-phase').textContent = { booting: 'starting the worker…', idle: '', loading: 'preparing…', running: 'training', pausing: 'pausing (writing a checkpoint)…', paused: 'paused', done: 'done', error: 'unavailable' }[p];
    if (p === 'idle' && this.saved && !$('train-saved').textContent) {
      const s = this.saved;
      $('train-saved').textContent = `A run on ${s.data} is saved in this browser at step ${s.step} (${s.steps ? `of ${s.steps}` : `${mmss(s.elapsed)} of ${mmss(s.seconds)} trained`}): ` +
        (unfinished ? 'Resume continues it, Start replaces it.' : 'it is finished; Download gives it, Start replaces it.');
    }
  }

  private info(text: string, bad = false): void {
    const el = $('train-info');
    el.textContent = text;
    el.classList.toggle('bad', bad);
  }

  /** A run folder as a ZIP: vqgpu-tokenizer/ or vqgpu-prior/ (the CLI's names in the page's hints). */
  private async runZip(run: RunName): Promise<Uint8Array<ArrayBuffer>> {
    const files = await runFolderFiles(run);
    return zipStore(files.map((f) => ({ name: `vqgpu-${run}/${f.name}`, bytes: f.bytes })));
  }

  /** The tokenizer and the prior trained here, to the Sample view (checkpoints and token cache; not latest.json). */
  private async useTrained(): Promise<void> {
    try {
      const files = [];
      for (const run of ['tokenizer', 'prior'] as const) {
        for (const f of await runFolderFiles(run)) if (f.name !== 'latest.json') files.push({ name: `trained here/${run}/${f.name}`, bytes: f.bytes });
      }
      await this.onUseTrained?.(files);
    } catch (e) {
      this.info((e as Error).message, true);
    }
  }

  private async download(run: RunName): Promise<void> {
    try {
      download(await this.runZip(run), `vqgpu-${run}.zip`, 'application/zip');
    } catch (e) {
      this.info((e as Error).message, true);
    }
  }
}

function toBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}
