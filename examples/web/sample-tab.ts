// The "Sample" tab: new grids from the chosen prior — the AR prior drawn row by row as tokens
// arrive, the diffusion and mask priors' reverse process animated frame by frame (saved as a GIF) —
// for the chosen classes and guidance scale, and completion of a held-out emoji from its top token
// rows. Sampling itself is in generate.ts (shared with the Node test); class and guidance controls
// in class-controls.ts.

import type { Canvas } from '../../src/data/figure.js';
import { describeGuidance } from '../../src/models/prior/classes.js';
import { kindLabel, maskToken, type PriorVariant } from '../../src/models/prior/config.js';
import type { Prior } from '../../src/models/prior/prior.js';
import type { VQVAE } from '../../src/models/tokenizer/vqvae.js';
import { ClassControls } from './class-controls.js';
import { download, emptyGrid, encodeGif, greyCells, grid, markRows, paint } from './draw.js';
import { decodeTokens, guidanceFor, heldOut, labelsFor, rowsPrefix, sampleARGrid, sampleReverse, type SampleSettings } from './generate.js';
import type { ModelSet } from './models.js';

export interface Ui {
  /** runs one task at a time with progress, timing and errors shown; resolves when it is done */
  run(label: string, task: () => Promise<void>): Promise<void>;
  progress(fraction: number, text?: string): void;
  /** "9 images in 2.1 s …" under the grid */
  timing(text: string): void;
}

/** One grid the tab sampled: what the browser test compares with Node. */
export interface GridRun {
  prior: PriorVariant;
  settings: SampleSettings;
  labels: Int32Array;
  /** [n, G·G] row-major */
  tokens: Int32Array;
  /** sampling time (drawing excluded for the reverse process) */
  ms: number;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const PICKER_ITEMS = 24;
const KIND_NAMES: Record<PriorVariant, string> = { ar: 'AR prior', diffusion: "diffusion prior (the seed's)", 'diffusion-d3pm': 'D3PM diffusion prior', mask: 'mask prior' };
/** what the Sample button says the reverse process is */
const PROCESS_NAMES: Record<Exclude<PriorVariant, 'ar'>, string> = { diffusion: 'diffusion', 'diffusion-d3pm': 'D3PM', mask: 'mask' };

export class SampleTab {
  /** the reverse process's frames, for replay and the GIF */
  private frames: Canvas[] = [];
  private chosen = 0;
  readonly classes = new ClassControls();

  constructor(private models: ModelSet, private ui: Ui, private adapterName: () => string) {
    $('temperature').addEventListener('input', () => ($('temperature-value').textContent = Number($<HTMLInputElement>('temperature').value).toFixed(2)));
    $('prior').addEventListener('change', () => this.priorChanged());
    $('btn-sample').addEventListener('click', () => void this.ui.run('sampling', () => this.sample().then(() => undefined)));
    $('btn-complete').addEventListener('click', () => void this.ui.run('completion', () => this.complete()));
    $('btn-gif').addEventListener('click', () => download(encodeGif(this.frames), 'vqgpu-reverse.gif', 'image/gif'));
    $('frame').addEventListener('input', () => {
      const f = this.frames[Number($<HTMLInputElement>('frame').value)];
      if (f) paint(this.canvas, f);
    });
  }

  private get canvas(): HTMLCanvasElement {
    return $<HTMLCanvasElement>('grid');
  }

  /** The prior kind chosen in the controls. */
  get kind(): PriorVariant {
    return $<HTMLSelectElement>('prior').value as PriorVariant;
  }

  settings(): SampleSettings {
    const num = (id: string) => Number($<HTMLInputElement>(id).value);
    return {
      temperature: num('temperature'), topK: Math.max(0, Math.round(num('top-k'))), seed: Math.round(num('seed')),
      cfg: this.classes.cfg(), steps: Math.max(1, Math.round(num('steps'))),
    };
  }

  /** Refreshes everything that depends on the loaded checkpoints. */
  async modelsChanged(): Promise<void> {
    const m = this.models;
    $('model-list').replaceChildren(...m.describe().map((t) => Object.assign(document.createElement('li'), { textContent: t })));
    const prior = $<HTMLSelectElement>('prior');
    const before = prior.value;
    prior.replaceChildren(...m.kinds().map((k) => new Option(KIND_NAMES[k], k)));
    if (m.kinds().includes(before as PriorVariant)) prior.value = before;
    if (m.tokenizer) {
      const rows = $<HTMLInputElement>('complete-rows');
      rows.max = String(m.tokenizer.value.config.grid - 1);
      if (Number(rows.value) > Number(rows.max)) rows.value = String(Math.floor(m.tokenizer.value.config.grid / 2));
    }
    this.priorChanged();
    await this.drawPicker();
  }

  private priorChanged(): void {
    const m = this.models, p = m.priors[this.kind];
    this.classes.update(p?.value.config ?? null, m.tokens?.value ?? null);
    $<HTMLButtonElement>('btn-sample').disabled = !(m.tokenizer && p);
    $<HTMLButtonElement>('btn-complete').disabled = !(m.tokenizer && p && m.tokens);
    $('btn-sample').textContent = this.kind === 'ar' ? 'Sample (drawn row by row)' : `Sample (reverse ${PROCESS_NAMES[this.kind]} process)`;
  }

  /** Thumbnails of the first held-out emoji of the token cache (click one to complete it). */
  private async drawPicker(): Promise<void> {
    const box = $('picker');
    box.replaceChildren();
    const { tokenizer, tokens } = this.models;
    if (!tokenizer || !tokens) return;
    const vq = tokenizer.value.vqvae, G = vq.config.grid, S = vq.config.size;
    if (tokens.value.header.grid !== G || tokens.value.header.codebook !== vq.config.codebook) return;
    const held = heldOut(tokens.value);
    const n = Math.min(PICKER_ITEMS, held.count);
    if (!n) return;
    const images = await decodeTokens(vq, held.tokens.subarray(0, n * G * G), n);
    const keys = tokens.value.header.items.filter((it) => it.split === 'heldout');
    this.chosen = Math.min(this.chosen, n - 1);
    for (let i = 0; i < n; i++) {
      const c = document.createElement('canvas');
      paint(c, grid(images.subarray(i * 3 * S * S, (i + 1) * 3 * S * S), 1, S));
      c.title = keys[i]?.key ?? `item ${i}`;
      c.className = i === this.chosen ? 'chosen' : '';
      c.addEventListener('click', () => {
        this.chosen = i;
        Array.from(box.children).forEach((el) => (el.className = el === c ? 'chosen' : ''));
      });
      box.append(c);
    }
  }

  /** Decodes tokens [n, G·G] and paints the grid; `unknown` greys cells not known yet. */
  private async show(vq: VQVAE, tokens: Int32Array, n: number, unknown?: (b: number, i: number) => boolean, marks?: number): Promise<Canvas> {
    const { size: S, grid: G } = vq.config;
    const c = grid(await decodeTokens(vq, tokens, n), n, S);
    if (unknown) greyCells(c, n, S, G, unknown);
    if (marks) for (let b = 0; b < n; b++) markRows(c, n, S, G, b, marks);
    paint(this.canvas, c);
    return c;
  }

  /** kinds of run done at least once: the first one also compiles its GPU pipelines */
  private warm = new Set<string>();

  private report(kind: string, n: number, ms: number, evals: number, what: string, s: SampleSettings, prior: Prior): void {
    const cold = this.warm.has(kind) ? '' : ' (first run: includes compiling the GPU pipelines)';
    this.warm.add(kind);
    const g = guidanceFor(prior.config, s);
    const guided = g ? ` · ${describeGuidance(g)}` : '';
    this.ui.timing(`${n} ${what} from the ${KIND_NAMES[kindLabel(prior.config)]}${guided} in ${(ms / 1000).toFixed(2)} s${cold} · ${(ms / n).toFixed(0)} ms per image · ${evals} network evaluations · ${this.adapterName()}`);
  }

  private resetFrames(): void {
    this.frames = [];
    $<HTMLButtonElement>('btn-gif').disabled = true;
    $('frame-box').hidden = true;
  }

  private framesDone(): void {
    const slider = $<HTMLInputElement>('frame');
    slider.max = String(this.frames.length - 1);
    slider.value = slider.max;
    $('frame-box').hidden = false;
    $<HTMLButtonElement>('btn-gif').disabled = this.frames.length === 0;
  }

  /** A grid of new samples from the chosen prior, for the chosen classes, every step drawn. */
  async sample(settings = this.settings()): Promise<GridRun> {
    const kind = this.kind;
    const { tokenizer, prior } = this.models.pair(kind);
    const labels = labelsFor(prior.config, this.classes.choice(), settings.seed, this.models.tokens?.value);
    const vq = tokenizer.vqvae, G = vq.config.grid, L = G * G, n = labels.length;
    this.resetFrames();
    this.classes.caption(labels);
    let tokens: Int32Array, ms: number;
    if (kind === 'ar') {
      paint(this.canvas, emptyGrid(n, vq.config.size));
      const t0 = performance.now();
      tokens = await sampleARGrid(prior, settings, labels, {
        onProgress: (f) => this.ui.progress(f, `token ${Math.round(f * L)} of ${L}`),
        onRows: async (rows, partial) => {
          const padded = new Int32Array(n * L);
          for (let b = 0; b < n; b++) padded.set(partial.subarray(b * rows * G, (b + 1) * rows * G), b * L);
          await this.show(vq, padded, n, (_, i) => i >= rows * G);
        },
      });
      ms = performance.now() - t0;
      await this.show(vq, tokens, n);
      this.report(kind, n, ms, L, 'images', settings, prior);
    } else {
      const mask = kind === 'mask' ? maskToken(prior.config) : -1;
      let drawing = 0;
      const t0 = performance.now();
      const r = await sampleReverse(prior, settings, labels, {
        onFrame: async (step, t) => {
          const t1 = performance.now();
          this.ui.progress(step / settings.steps, `step ${step} of ≤ ${settings.steps}`);
          this.frames.push(await this.show(vq, t, n, mask >= 0 ? (b, i) => t[b * L + i] === mask : undefined));
          drawing += performance.now() - t1; // drawing is not sampling time
        },
      });
      ms = performance.now() - t0 - drawing;
      tokens = r.tokens;
      this.framesDone();
      this.report(kind, n, ms, r.evals, `images (${r.frames.length} frames)`, settings, prior);
    }
    return { prior: kind, settings, labels, tokens, ms };
  }

  /** Completions of the chosen held-out emoji from its top rows: the original first, then 8 samples. */
  async complete(): Promise<void> {
    const m = this.models, kind = this.kind;
    const { tokenizer, prior } = m.pair(kind);
    if (!m.tokens) throw new Error('Load a token cache (tokens.bin from `vqgpu encode`) to complete held-out emoji.');
    const vq = tokenizer.vqvae, G = vq.config.grid, L = G * G;
    const cache = m.tokens.value.header;
    if (cache.grid !== G || cache.codebook !== prior.config.codebook) {
      throw new Error(`token cache ${m.tokens.source} has ${cache.codebook} codes on ${cache.grid}×${cache.grid}; the prior expects ${prior.config.codebook} on ${G}×${G}.`);
    }
    const held = heldOut(m.tokens.value);
    const item = held.tokens.slice(this.chosen * L, (this.chosen + 1) * L);
    const rows = Math.min(G - 1, Math.max(1, Math.round(Number($<HTMLInputElement>('complete-rows').value))));
    const settings = this.settings();
    // the item's own class, as `vqgpu sample --prefix-rows` uses the held-out items' labels
    const labels = new Int32Array(8).fill(held.labels[this.chosen]);
    const prefix = rowsPrefix(item, G, rows, labels.length);
    const withOriginal = (t: Int32Array) => {
      const all = new Int32Array(9 * L);
      all.set(item, 0);
      all.set(t, L);
      return all;
    };
    this.resetFrames();
    this.classes.caption(null);
    const t0 = performance.now();
    let tokens: Int32Array, evals: number;
    if (kind === 'ar') {
      tokens = await sampleARGrid(prior, settings, labels, {
        prefix,
        onProgress: (f) => this.ui.progress(f),
        onRows: async (r, partial) => {
          const padded = new Int32Array(8 * L);
          for (let b = 0; b < 8; b++) padded.set(partial.subarray(b * r * G, (b + 1) * r * G), b * L);
          await this.show(vq, withOriginal(padded), 9, (b, i) => b > 0 && i >= r * G, rows);
        },
      });
      evals = L - rows * G;
    } else {
      const mask = kind === 'mask' ? maskToken(prior.config) : -1;
      const r = await sampleReverse(prior, settings, labels, {
        prefix,
        onFrame: async (step, t) => {
          this.ui.progress(step / settings.steps);
          const all = withOriginal(t);
          this.frames.push(await this.show(vq, all, 9, (b, i) => all[b * L + i] === mask, rows));
        },
      });
      tokens = r.tokens;
      evals = r.evals;
    }
    const ms = performance.now() - t0;
    await this.show(vq, withOriginal(tokens), 9, undefined, rows);
    if (this.frames.length) this.framesDone();
    const name = this.classes.name(held.labels[this.chosen]);
    this.report(kind, 8, ms, evals, `completions of ${rows} of ${G} rows${name ? ` (class ${name})` : ''}`, settings, prior);
  }
}
