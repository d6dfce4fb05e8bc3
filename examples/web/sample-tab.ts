// The "Sample" tab: new 3×3 grids from the AR prior (drawn row by row as tokens arrive), the reverse
// process of the diffusion/mask prior (animated frame by frame, saved as a GIF), and completion of
// a held-out emoji from its top token rows. Sampling itself is in generate.ts (shared with the test).

import type { Canvas } from '../../src/data/figure.js';
import { maskToken } from '../../src/models/prior/config.js';
import type { Prior } from '../../src/models/prior/prior.js';
import type { VQVAE } from '../../src/models/tokenizer/vqvae.js';
import { download, emptyGrid, encodeGif, greyCells, grid, markRows, paint } from './draw.js';
import { decodeTokens, heldOut, rowsPrefix, sampleARGrid, sampleReverse, type SampleSettings } from './generate.js';
import type { ModelSet } from './models.js';

export interface Ui {
  /** runs one task at a time with progress, timing and errors shown; resolves when it is done */
  run(label: string, task: () => Promise<void>): Promise<void>;
  progress(fraction: number, text?: string): void;
  /** "9 images in 2.1 s …" under the grid */
  timing(text: string): void;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const PICKER_ITEMS = 24;

export class SampleTab {
  /** the reverse process's frames, for replay and the GIF */
  private frames: Canvas[] = [];
  private chosen = 0;

  constructor(private models: ModelSet, private ui: Ui, private adapterName: () => string) {
    $('temperature').addEventListener('input', () => ($('temperature-value').textContent = Number($<HTMLInputElement>('temperature').value).toFixed(2)));
    $('btn-grid').addEventListener('click', () => void this.ui.run('AR grid', () => this.sampleGrid().then(() => undefined)));
    $('btn-reverse').addEventListener('click', () => void this.ui.run('reverse process', () => this.reverseProcess()));
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

  settings(n = 9): SampleSettings {
    const num = (id: string) => Number($<HTMLInputElement>(id).value);
    return { n, temperature: num('temperature'), topK: Math.max(0, Math.round(num('top-k'))), seed: Math.round(num('seed')) };
  }

  /** Refreshes everything that depends on the loaded checkpoints. */
  async modelsChanged(): Promise<void> {
    $('model-list').replaceChildren(...this.models.describe().map((t) => Object.assign(document.createElement('li'), { textContent: t })));
    const m = this.models;
    $<HTMLButtonElement>('btn-grid').disabled = !(m.tokenizer && m.ar);
    $<HTMLButtonElement>('btn-reverse').disabled = !(m.tokenizer && m.reverse);
    $<HTMLButtonElement>('btn-complete').disabled = !(m.tokenizer && (m.ar || m.reverse) && m.tokens);
    $('btn-reverse').textContent = m.reverse ? `Reverse ${m.reverse.value.config.prior} process` : 'Reverse diffusion process';
    const which = $<HTMLSelectElement>('complete-prior');
    which.replaceChildren(...(['ar', 'reverse'] as const).filter((k) => m[k]).map((k) => new Option(`${m[k]!.value.config.prior} prior`, k)));
    if (m.tokenizer) {
      const rows = $<HTMLInputElement>('complete-rows');
      rows.max = String(m.tokenizer.value.config.grid - 1);
      if (Number(rows.value) > Number(rows.max)) rows.value = String(Math.floor(m.tokenizer.value.config.grid / 2));
    }
    await this.drawPicker();
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
    this.chosen = Math.min(this.chosen, n - 1);
    for (let i = 0; i < n; i++) {
      const c = document.createElement('canvas');
      paint(c, grid(images.subarray(i * 3 * S * S, (i + 1) * 3 * S * S), 1, S));
      c.title = tokens.value.header.items.filter((it) => it.split === 'heldout')[i]?.key ?? `item ${i}`;
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

  private report(kind: string, n: number, ms: number, evals: number, what: string): void {
    const cold = this.warm.has(kind) ? '' : ' (first run: includes compiling the GPU pipelines)';
    this.warm.add(kind);
    this.ui.timing(`${n} ${what} in ${(ms / 1000).toFixed(2)} s${cold} · ${(ms / n).toFixed(0)} ms per image · ${evals} network evaluations · ${this.adapterName()}`);
  }

  private resetFrames(): void {
    this.frames = [];
    $<HTMLButtonElement>('btn-gif').disabled = true;
    $('frame-box').hidden = true;
  }

  /** A 3×3 grid of new samples from the AR prior, drawn row by row: tokens [9, G·G] and sampling ms. */
  async sampleGrid(settings = this.settings()): Promise<{ tokens: Int32Array; ms: number }> {
    const { tokenizer, prior } = this.models.pair('ar');
    const vq = tokenizer.vqvae, G = vq.config.grid, L = G * G, n = settings.n;
    this.resetFrames();
    paint(this.canvas, emptyGrid(n, vq.config.size));
    const t0 = performance.now();
    const tokens = await sampleARGrid(prior, settings, {
      onProgress: (f) => this.ui.progress(f, `token ${Math.round(f * L)} of ${L}`),
      onRows: async (rows, partial) => {
        const padded = new Int32Array(n * L);
        for (let b = 0; b < n; b++) padded.set(partial.subarray(b * rows * G, (b + 1) * rows * G), b * L);
        await this.show(vq, padded, n, (_, i) => i >= rows * G);
      },
    });
    const ms = performance.now() - t0;
    await this.show(vq, tokens, n);
    this.report('ar', n, ms, L, 'images');
    return { tokens, ms };
  }

  /** Plays one frame of the reverse process: masked positions grey, random codes as they are. */
  private async frame(vq: VQVAE, prior: Prior, tokens: Int32Array, n: number, marks?: number): Promise<Canvas> {
    const mask = prior.config.prior === 'mask' ? maskToken(prior.config) : -1;
    const c = await this.show(vq, tokens, n, mask >= 0 ? (b, i) => tokens[b * vq.config.grid ** 2 + i] === mask : undefined, marks);
    this.frames.push(c);
    return c;
  }

  private framesDone(): void {
    const slider = $<HTMLInputElement>('frame');
    slider.max = String(this.frames.length - 1);
    slider.value = slider.max;
    $('frame-box').hidden = false;
    $<HTMLButtonElement>('btn-gif').disabled = this.frames.length === 0;
  }

  /** The diffusion/mask prior's reverse process on a 3×3 grid, every step drawn. */
  async reverseProcess(settings = this.settings()): Promise<void> {
    const { tokenizer, prior } = this.models.pair('reverse');
    const vq = tokenizer.vqvae, n = settings.n, steps = Math.max(1, Math.round(Number($<HTMLInputElement>('steps').value)));
    this.resetFrames();
    let sampling = 0;
    const t0 = performance.now();
    const r = await sampleReverse(prior, { ...settings, steps }, {
      onFrame: async (step, tokens) => {
        const t = performance.now();
        this.ui.progress(step / steps, `step ${step} of ≤ ${steps}`);
        await this.frame(vq, prior, tokens, n);
        sampling -= performance.now() - t; // drawing is not sampling time
      },
    });
    sampling += performance.now() - t0;
    this.framesDone();
    this.report(prior.config.prior, n, sampling, r.evals, `images (${r.frames.length} frames)`);
  }

  /** Completions of the chosen held-out emoji from its top rows: the original first, then 8 samples. */
  async complete(): Promise<void> {
    const m = this.models;
    const which = ($<HTMLSelectElement>('complete-prior').value || 'ar') as 'ar' | 'reverse';
    const { tokenizer, prior } = m.pair(which);
    if (!m.tokens) throw new Error('Load a token cache (tokens.bin from `vqgpu encode`) to complete held-out emoji.');
    const vq = tokenizer.vqvae, G = vq.config.grid, L = G * G;
    const cache = m.tokens.value.header;
    if (cache.grid !== G || cache.codebook !== prior.config.codebook) {
      throw new Error(`token cache ${m.tokens.source} has ${cache.codebook} codes on ${cache.grid}×${cache.grid}; the prior expects ${prior.config.codebook} on ${G}×${G}.`);
    }
    const held = heldOut(m.tokens.value);
    const item = held.tokens.slice(this.chosen * L, (this.chosen + 1) * L);
    const rows = Math.min(G - 1, Math.max(1, Math.round(Number($<HTMLInputElement>('complete-rows').value))));
    const settings = this.settings(8);
    const prefix = rowsPrefix(item, held.labels[this.chosen], G, rows, settings.n);
    const withOriginal = (t: Int32Array) => {
      const all = new Int32Array(9 * L);
      all.set(item, 0);
      all.set(t, L);
      return all;
    };
    this.resetFrames();
    const t0 = performance.now();
    let tokens: Int32Array, evals: number;
    if (prior.config.prior === 'ar') {
      tokens = await sampleARGrid(prior, settings, {
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
      const steps = Math.max(1, Math.round(Number($<HTMLInputElement>('steps').value)));
      const r = await sampleReverse(prior, { ...settings, steps }, {
        prefix,
        onFrame: async (step, t) => {
          this.ui.progress(step / steps);
          const mask = prior.config.prior === 'mask' ? maskToken(prior.config) : -1;
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
    this.report(prior.config.prior, 8, ms, evals, `completions of ${rows} of ${G} rows`);
  }
}
