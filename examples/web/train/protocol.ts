// Messages between the page (train-tab.ts) and the training worker (worker.ts). The worker owns the
// GPU device, the model, the data and the run folder in OPFS; the page only draws what it is sent,
// so no step's work ever lands on the main thread.

import type { PriorVariant } from '../../../src/models/prior/config.js';

/** Where the images come from: the bundled emoji set, or a folder the person picked (files with keys relative to it). */
export type DataChoice =
  | { kind: 'emoji' }
  | { kind: 'folder'; name: string; files: { key: string; file: File }[] };

/** The run saved in OPFS, as the page describes it before resuming. */
export interface SavedRun {
  step: number;
  file: string;
  /** the data set's name ('emoji' or the picked folder's) */
  data: string;
  /** the run's time budget and the training time spent, in seconds */
  seconds: number;
  elapsed: number;
  /** [step, loss] of every logged loss so far (the curve continues after a reload) */
  history: [number, number][];
  /** the budget is spent (nothing to resume) */
  finished: boolean;
  /** the run's budget in steps, when it has one instead of seconds (automated checks) */
  steps?: number;
}

export type ToWorker =
  /** a new run (the saved one is replaced) */
  | { type: 'start'; data: DataChoice; seconds: number; steps?: number; checkpointEvery?: number }
  /** continue the run saved in OPFS (after a reload) */
  | { type: 'continue' }
  /** encode the data with the saved tokenizer, then train a prior on the tokens and sample from it */
  | { type: 'prior'; kind: PriorVariant; seconds: number; steps?: number; checkpointEvery?: number }
  /** continue the prior saved in OPFS (after a reload) */
  | { type: 'continue-prior' }
  | { type: 'pause' }
  | { type: 'resume' }
  /** automated checks: destroy the worker's GPU device, as a crash of the browser's GPU process does */
  | { type: 'lose-device' };

export interface Progress {
  step: number;
  /** the mean reconstruction loss (the CLI's `rec`) since the last report */
  loss: number;
  /** codebook usage (fraction of codes used since the last report) */
  usage: number;
  imagesPerSecond: number;
  /** training seconds spent and left in the budget */
  elapsed: number;
  left: number;
}

/** Which run a state message is about: the tokenizer (absent) or the prior trained after it. */
export type Stage = { stage?: 'prior' };

export interface PriorProgress {
  step: number;
  /** the mean training cross-entropy (nats per token) since the last report */
  loss: number;
  tokensPerSecond: number;
  elapsed: number;
  left: number;
}

export type FromWorker =
  /** saved: the tokenizer's run in OPFS; savedPrior: the prior's (data: 'prior') */
  | { type: 'ready'; adapter: string; saved: SavedRun | null; savedPrior: SavedRun | null }
  | { type: 'status'; text: string }
  | { type: 'data'; name: string; images: number; train: number; bad: [string, string][] }
  | ({ type: 'progress' } & Progress)
  /** held-out images [n, 3, S, S] in [-1, 1] and their reconstructions, at `step` */
  | { type: 'pairs'; step: number; size: number; n: number; images: Float32Array; recon: Float32Array }
  | ({ type: 'checkpoint'; step: number; file: string; bytes: number } & Stage)
  | ({ type: 'paused'; step: number } & Stage)
  | ({ type: 'running'; step: number } & Stage)
  | ({ type: 'done'; step: number; elapsed: number } & Stage)
  /** the data set encoded with the tokenizer (a token cache of `images` grids, `heldout` of them held out) */
  | { type: 'prior-data'; images: number; heldout: number; grid: number; classes: string[]; seconds: number }
  | ({ type: 'prior-progress' } & PriorProgress)
  /** new images [n, 3, S, S] in [-1, 1] from the prior at `step`, with each one's class name ('' without classes) */
  | { type: 'samples'; step: number; size: number; n: number; images: Float32Array; labels: string[]; seconds: number }
  /** the GPU device was lost; the worker continues the run from its last checkpoint on a new device */
  | { type: 'device-lost'; message: string }
  | { type: 'error'; message: string };
