// The Train view's prior part, on the main thread: what the worker's prior session sends (the
// encoded data set, the loss curve and tokens/s, checkpoints, the sample grid at the end) drawn in
// the page and kept for tests (hooks). The buttons' wiring and the phase of the worker (one
// session at a time: Pause/Resume act on whichever runs) stay in train-tab.ts.

import { imageGrid } from '../../../src/data/figure.js';
import { paint } from '../draw.js';
import { drawLossChart } from './loss-chart.js';
import type { FromWorker, SavedRun } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const mmss = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

/** What the page exposes to tests of the prior stage (window.vqgpuTrain.prior). */
export interface PriorHooks {
  /** [step, loss (nats per token)] of every report, in order */
  losses: [number, number][];
  tokensPerSecond: number[];
  /** the token cache the tokenizer made: grids, held out, grid side, class names */
  data: { images: number; heldout: number; grid: number; classes: string[] } | null;
  checkpoints: string[];
  /** the sample grid's description (the images are in the canvas #prior-samples) */
  samples: { step: number; n: number; size: number; labels: string[]; seconds: number; min: number; max: number } | null;
}

export class PriorPanel {
  readonly hooks: PriorHooks = { losses: [], tokensPerSecond: [], data: null, checkpoints: [], samples: null };
  /** a prior checkpoint exists in OPFS (the download is possible) */
  hasCheckpoint = false;

  /** A new prior run: the curve and the samples are cleared. */
  reset(): void {
    this.hooks.losses = [];
    this.hooks.tokensPerSecond = [];
    this.hooks.samples = null;
    this.hooks.data = null;
    this.hasCheckpoint = false;
    drawLossChart($<HTMLCanvasElement>('prior-loss'), []);
    $('prior-stats').textContent = '';
  }

  /** The prior saved in OPFS (after a reload): its curve so far, and what Resume would do. */
  restore(saved: SavedRun): void {
    this.hooks.losses = [...saved.history];
    this.hasCheckpoint = true;
    drawLossChart($<HTMLCanvasElement>('prior-loss'), this.hooks.losses);
    $('prior-saved').textContent = `A prior is saved in this browser at step ${saved.step} (${saved.steps ? `of ${saved.steps}` : `${mmss(saved.elapsed)} of ${mmss(saved.seconds)} trained`}): ` +
      (saved.finished ? 'it is finished; Download prior gives it.' : 'Resume continues it, Train prior replaces it.');
  }

  /** Handles a prior message; false when `m` is not one. */
  handle(m: FromWorker): boolean {
    switch (m.type) {
      case 'prior-data':
        this.hooks.data = { images: m.images, heldout: m.heldout, grid: m.grid, classes: m.classes };
        $('prior-info').textContent = `Encoded ${m.images} images (${m.heldout} held out) to ${m.grid}×${m.grid} tokens in ${m.seconds.toFixed(1)} s` +
          (m.classes.length ? `; ${m.classes.length} classes: the prior is class-conditional.` : '; no classes: the prior is unconditional.');
        return true;
      case 'prior-progress':
        this.hooks.losses.push([m.step, m.loss]);
        this.hooks.tokensPerSecond.push(m.tokensPerSecond);
        drawLossChart($<HTMLCanvasElement>('prior-loss'), this.hooks.losses);
        $('prior-stats').textContent = `step ${m.step} · loss ${m.loss.toFixed(3)} nats/token (${(m.loss / Math.LN2).toFixed(2)} bits) · ` +
          `${m.tokensPerSecond.toFixed(0)} tokens/s · ${mmss(m.elapsed)} trained, ${mmss(m.left)} left`;
        return true;
      case 'samples': {
        let min = Infinity, max = -Infinity;
        for (const v of m.images) {
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
        this.hooks.samples = { step: m.step, n: m.n, size: m.size, labels: m.labels, seconds: m.seconds, min, max };
        paint($<HTMLCanvasElement>('prior-samples'), imageGrid(m.images, m.n, m.size, Math.ceil(Math.sqrt(m.n)), 2, Math.max(1, Math.round(64 / m.size))));
        $('prior-samples-step').textContent = `at step ${m.step}, drawn in ${m.seconds.toFixed(1)} s` + (m.labels.some(Boolean) ? ` (classes: ${m.labels.join(', ')})` : '');
        return true;
      }
      case 'checkpoint':
        if (m.stage !== 'prior') return false;
        this.hasCheckpoint = true;
        this.hooks.checkpoints.push(m.file);
        $('prior-saved').textContent = `Saved the prior's ${m.file} (${(m.bytes / 1e6).toFixed(1)} MB) in this browser's storage.`;
        return true;
      default:
        return false;
    }
  }
}
