// A small CNN classifier for the data set's classes (browser-safe): its penultimate pooled vector is
// the feature space of the sample-quality metrics (KID and precision/recall of embeddings, class
// accuracy of samples), trained by this engine on the same images as the tokenizer.
//
//   [N, 3, S, S] in [-1, 1]
//   → stage 0: conv3×3 → GroupNorm+SiLU, then `depth` × (conv3×3 → GroupNorm+SiLU)        (S)
//   → stage i > 0: stride-2 conv3×3 → GroupNorm+SiLU, then `depth` × the same              (S / 2^i)
//   → global average pool → features [N, F] (F = the last width) → linear → logits [N, classes]

import { noGrad } from '../../autograd/tape.js';
import { Conv2d } from '../../nn/conv2d.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { GroupNorm } from '../../nn/norm.js';
import { fmt } from '../../ops/launch.js';
import { mean } from '../../ops/reduce.js';
import { concat } from '../../ops/layout.js';
import { tidy } from '../../tensor/scope.js';
import { tensor, type Tensor } from '../../tensor/tensor.js';
import type { ClassifierConfig } from './config.js';

interface ConvNorm {
  conv: Conv2d;
  norm: GroupNorm;
}

export class Classifier extends Module {
  private layers: ConvNorm[] = [];
  private head: Linear;
  /** width of the feature vector (the last stage's channels) */
  readonly featureDim: number;

  constructor(readonly config: ClassifierConfig) {
    super();
    const { widths, depth, groups } = config;
    let ch = 3;
    widths.forEach((w, i) => {
      for (let j = 0; j <= depth; j++) {
        const stride = i > 0 && j === 0 ? 2 : 1;
        const conv = this.child(`s${i}_conv${j}`, new Conv2d(ch, w, { kernel: 3, padding: 1, stride }));
        const norm = this.child(`s${i}_norm${j}`, new GroupNorm(Math.min(groups, w), w));
        this.layers.push({ conv, norm });
        ch = w;
      }
    });
    this.featureDim = ch;
    this.head = this.child('head', new Linear(ch, config.classes.length));
  }

  get numClasses(): number {
    return this.config.classes.length;
  }

  /** x [N, 3, S, S] → the penultimate pooled features [N, F] */
  features(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 3) throw new Error(`Classifier: input ${fmt(x.shape)} must be [N, 3, H, W].`);
    let h = x;
    for (const l of this.layers) h = l.norm.forward(l.conv.forward(h), 'silu');
    return mean(h, [2, 3]);
  }

  /** x [N, 3, S, S] → logits [N, classes] */
  logits(x: Tensor): Tensor {
    return this.head.forward(this.features(x));
  }

  /** x [N, 3, S, S] → [N, F + classes]: the features and the logits of one pass (a scorer reads both) */
  featuresAndLogits(x: Tensor): Tensor {
    const f = this.features(x);
    return concat([f, this.head.forward(f)], 1);
  }

  forward(x: Tensor): Tensor {
    return this.logits(x);
  }
}

/** Runs `fn` over images in batches without gradients; each batch's [k, D] result is read back into one array [n, D]. */
async function batched(model: Classifier, images: Float32Array, n: number, batch: number, dim: number, fn: (x: Tensor) => Tensor): Promise<Float32Array> {
  const S = model.config.size;
  const per = 3 * S * S;
  if (!Number.isInteger(n) || n < 0 || images.length < n * per) {
    throw new Error(`classifier: ${n} images of 3×${S}×${S} need ${n * per} floats; got ${images.length} (images must be ${S} px, the size the classifier was trained at).`);
  }
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`classifier: batch must be a positive integer, got ${batch}.`);
  const out = new Float32Array(n * dim);
  for (let s = 0; s < n; s += batch) {
    const k = Math.min(batch, n - s);
    const t = noGrad(() => tidy(() => fn(tensor(images.subarray(s * per, (s + k) * per), [k, 3, S, S])).keepAlive()));
    out.set((await t.toArray()) as Float32Array, s * dim);
    t.dispose();
  }
  return out;
}

/**
 * The feature vectors of n images (NCHW planar floats in [-1, 1] at the model's size), in batches:
 * a Float32Array [n, F] (F = model.featureDim).
 */
export function embedImages(model: Classifier, images: Float32Array, n: number, batch = 64): Promise<Float32Array> {
  return batched(model, images, n, batch, model.featureDim, (x) => model.features(x));
}

/** The logits of n images: a Float32Array [n, classes]. */
export function classifyLogits(model: Classifier, images: Float32Array, n: number, batch = 64): Promise<Float32Array> {
  return batched(model, images, n, batch, model.numClasses, (x) => model.logits(x));
}

/** The feature vectors [n, F] and predicted classes [n] of n images, from one pass of the network. */
export async function embedAndClassify(model: Classifier, images: Float32Array, n: number, batch = 64): Promise<{ features: Float32Array; predicted: Int32Array }> {
  const F = model.featureDim, C = model.numClasses;
  const both = await batched(model, images, n, batch, F + C, (x) => model.featuresAndLogits(x));
  const features = new Float32Array(n * F), logits = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    features.set(both.subarray(i * (F + C), i * (F + C) + F), i * F);
    logits.set(both.subarray(i * (F + C) + F, (i + 1) * (F + C)), i * C);
  }
  return { features, predicted: argmaxRows(logits, n, C) };
}

/** Row-wise argmax of logits [n, classes] (ties: the lower index). */
export function argmaxRows(logits: Float32Array, n: number, classes: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** The predicted class index of each of n images: Int32Array [n] (names: model.config.classes). */
export async function classify(model: Classifier, images: Float32Array, n: number, batch = 64): Promise<Int32Array> {
  return argmaxRows(await classifyLogits(model, images, n, batch), n, model.numClasses);
}
