// The scoring half of `eval-samples` and `compare`: a classifier of the data set's classes (never
// the tokenizer or a prior: a model must not judge itself) embeds the training images once, the
// held-out images and the tokenizer's reconstructions of them (two reference rows, as many as the
// held-out split has), N training grids decoded (the third: what a prior that returned its own
// training grids would score, at the samples' N), and then any set of samples, each scored by
// eval/sample-quality.ts against the training features.

import { existsSync } from 'node:fs';
import { runtime } from '../device/runtime.js';
import { dirname, join } from 'node:path';
import { splitTokens, type TokenCache } from '../data/token-cache.js';
import { qualityReference, qualityRow, type FeatureSet, type QualityReference, type QualityRow } from '../eval/sample-quality.js';
import type { Classifier } from '../models/classifier/classifier.js';
import { UsageError } from '../io/flags.js';
import { embedAndClassify, loadClassifierRun } from './classifier-run.js';
import { openDataSet, type DataSet } from './dataset.js';
import { ImageLoader } from './image-loader.js';
import { decodeTokens } from '../models/tokenizer/decode-tokens.js';
import { subsetIndices } from '../eval/kid.js';
import { NoiseRng } from '../models/prior/noise.js';
import type { TokenizerState } from './tokenizer-run.js';

interface Scored {
  set: FeatureSet;
  predicted: Int32Array;
}

/** Features and predicted classes of images [n, 3, S, S] (one pass of the classifier). */
async function embed(model: Classifier, images: Float32Array, n: number): Promise<Scored> {
  const { features, predicted } = await embedAndClassify(model, images, n, 128);
  return { set: { features, n }, predicted };
}

/** Maps label indices of one list of class names onto another by name (−1: not there). */
export function nameMap(from: readonly string[], to: readonly string[]): (label: number) => number {
  return (l) => (l >= 0 && l < from.length ? to.indexOf(from[l]) : -1);
}

/** Every image of a split, with its label as the classifier's class index (−1 when it has none). */
function loadSplit(data: DataSet, size: number, split: 'train' | 'heldout', toClassifier: (label: number) => number): { images: Float32Array; wanted: Int32Array; n: number } {
  const loader = new ImageLoader(data, { size, batch: 256, split });
  const chunks: Float32Array[] = [], labels: number[] = [];
  for (const b of loader.epoch()) {
    chunks.push(b.images);
    for (const l of b.labels) labels.push(toClassifier(l));
  }
  const images = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) (images.set(c, at), (at += c.length));
  return { images, wanted: Int32Array.from(labels), n: labels.length };
}

export interface SampleScorer {
  classifierPath: string;
  /** the classifier's class names */
  classes: string[];
  heldout: QualityRow;
  reconstructions: QualityRow;
  /** Scores samples: images [n, 3, S, S], their grids [n, L], and the class each was drawn for (classifier indices, −1: none). */
  score(images: Float32Array, n: number, grids: Int32Array, wanted: Int32Array | null): Promise<QualityRow>;
  /**
   * min(n, training grids) training grids drawn at random (`seed`), decoded and scored as samples:
   * the row of a prior that returns its own training grids. Its KID is the floor any prior reaches
   * through this tokenizer, measured at the samples' N (the held-out rows have the held-out
   * split's few hundred); its copies are 1 and its nn_ratio small by construction (memorisation's
   * signature, for scale).
   */
  trainingGrids(n: number, seed: number): Promise<QualityRow>;
}

/** What the scoring of one classifier on one data set's real images needs; tokenizer-independent. */
interface RealReference {
  cls: Awaited<ReturnType<typeof loadClassifierRun>>;
  held: ReturnType<typeof loadSplit>;
  heldE: Scored;
  ref: QualityReference;
}

/**
 * The classifier and the real images' side of the scoring (both splits embedded, the training
 * features' k-NN radii), made once per runtime for the last classifier, data set and size asked
 * for: the demo scores two tokenizers' priors against the same real images.
 */
const lastReference = new WeakMap<object, { key: string; value: Promise<RealReference> }>();

function realReference(clsPath: string, dataSpec: string, size: number, log: (m: string) => void): Promise<RealReference> {
  const rt = runtime(), key = JSON.stringify([clsPath, dataSpec, size]);
  let last = lastReference.get(rt);
  if (last?.key !== key) lastReference.set(rt, (last = { key, value: makeRealReference(clsPath, dataSpec, size, log) }));
  const value = last.value;
  value.catch(() => { if (lastReference.get(rt)?.value === value) lastReference.delete(rt); });
  return value;
}

async function makeRealReference(clsPath: string, dataSpec: string, size: number, log: (m: string) => void): Promise<RealReference> {
  const cls = await loadClassifierRun(clsPath);
  if (cls.config.size !== size) throw new Error(`the classifier '${clsPath}' sees ${cls.config.size}px images, the tokenizer makes ${size}px ones.`);
  const data = openDataSet(dataSpec);
  const fromData = nameMap(data.labels, cls.classes);
  const train = loadSplit(data, size, 'train', fromData);
  const held = loadSplit(data, size, 'heldout', fromData);
  log(`scoring in the features of '${clsPath}' against ${train.n} training images (${held.n} held out) of ${dataSpec}`);
  const trainE = await embed(cls.model, train.images, train.n);
  const heldE = await embed(cls.model, held.images, held.n);
  return { cls, held, heldE, ref: qualityReference(trainE.set, heldE.set, cls.model.featureDim, held.n) };
}

/**
 * `classifierPath` defaults to 'classifier' beside the tokenizer's run folder; `dataSpec` to the
 * tokenizer's data set. The held-out reconstructions are the cache's held-out grids decoded.
 */
export async function sampleScorer(o: {
  classifierPath?: string; tokenizerPath: string; tokenizer: TokenizerState; dataSpec: string; cache: TokenCache; log: (m: string) => void;
}): Promise<SampleScorer> {
  const size = o.tokenizer.config.size;
  const clsPath = o.classifierPath ?? join(dirname(o.tokenizerPath), 'classifier');
  if (!existsSync(clsPath)) throw new UsageError(`no classifier at '${clsPath}': train one (\`vqgpu train-classifier --data ${o.dataSpec} --size ${size} --out ${clsPath}\`) or give --classifier RUN.`);
  const { cls, held, heldE, ref } = await realReference(clsPath, o.dataSpec, size, o.log);
  const heldGrids = splitTokens(o.cache, 'heldout');
  const recon = await embed(cls.model, await decodeTokens(o.tokenizer.vqvae, heldGrids.tokens, heldGrids.count), heldGrids.count);
  const trainGrids = splitTokens(o.cache, 'train');
  const L = o.cache.header.grid ** 2;
  return {
    classifierPath: clsPath,
    classes: cls.classes,
    heldout: qualityRow(ref, { set: heldE.set, classes: { wanted: held.wanted, predicted: heldE.predicted } }),
    reconstructions: qualityRow(ref, { set: recon.set, classes: { wanted: heldGrids.labels.map(nameMap(o.cache.header.labels, cls.classes)), predicted: recon.predicted } }),
    score,
    async trainingGrids(n, seed) {
      const m = Math.min(n, trainGrids.count);
      const idx = subsetIndices(trainGrids.count, m, new NoiseRng(seed >>> 0));
      const grids = new Int32Array(m * L), wanted = new Int32Array(m);
      const toClassifier = nameMap(o.cache.header.labels, cls.classes);
      idx.forEach((i, k) => {
        grids.set(trainGrids.tokens.subarray(i * L, (i + 1) * L), k * L);
        wanted[k] = toClassifier(trainGrids.labels[i]);
      });
      return score(await decodeTokens(o.tokenizer.vqvae, grids, m), m, grids, wanted);
    },
  };

  async function score(images: Float32Array, n: number, grids: Int32Array, wanted: Int32Array | null): Promise<QualityRow> {
    const e = await embed(cls.model, images, n);
    return qualityRow(ref, {
      set: e.set, classes: wanted ? { wanted, predicted: e.predicted } : undefined,
      grids: { samples: grids, train: trainGrids.tokens, nTrain: trainGrids.count, L },
    });
  }
}

/** A row as one line of text (the non-JSON output of eval-samples and compare). */
export function formatRow(title: string, q: QualityRow): string {
  const fmt = (v: number | null) => (v === null || !Number.isFinite(v) ? '–' : Math.abs(v) < 0.01 && v !== 0 ? v.toExponential(2) : v.toFixed(3));
  return `${title.padEnd(26)} n ${String(q.n).padStart(5)} | kid ${fmt(q.kid)} ± ${fmt(q.kid_std)} | precision ${fmt(q.precision)} | recall ${fmt(q.recall)} | class acc ${fmt(q.class_accuracy)} | nn_ratio ${fmt(q.nn_ratio)} | copies ${fmt(q.copies)}`;
}
