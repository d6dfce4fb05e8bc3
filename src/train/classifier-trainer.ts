// One training step of the image classifier (browser-safe): fused softmax cross-entropy of the
// logits against the labels, AdamW (weight decay on the convolution and linear weights only) with a
// linear warm-up and a cosine decay. The loss sum stays on the GPU until `takeLoss()` (log time).

import { backward } from '../autograd/tape.js';
import type { Classifier } from '../models/classifier/classifier.js';
import { AdamW } from '../optim/adam.js';
import { warmupCosine } from '../optim/schedule.js';
import { LossMeter } from './loss-meter.js';
import { crossEntropy } from '../ops/xent.js';
import { tidy } from '../tensor/scope.js';
import { tensor } from '../tensor/tensor.js';

export interface ClassifierTrainOptions {
  /** peak learning rate */
  lr: number;
  /** AdamW decoupled weight decay on weights of rank ≥ 2 (norms and biases: none) */
  weightDecay: number;
  /** linear warm-up steps */
  warmup: number;
  /** the cosine reaches lr·lrFinal at this step (re-targetable: `setTotalSteps`) */
  totalSteps: number;
  /** final rate as a fraction of lr */
  lrFinal: number;
}

/** The defaults of `vqgpu train-classifier`. */
export const CLASSIFIER_DEFAULTS = { batch: 64, lr: 2e-3, weightDecay: 0.05, warmup: 50, lrFinal: 0.02, shift: 2 } as const;

export class ClassifierTrainer {
  readonly opt: AdamW;
  private readonly meter = new LossMeter();
  private total: number;
  step = 0;

  constructor(readonly model: Classifier, readonly o: ClassifierTrainOptions) {
    const params = model.parameters();
    this.total = o.totalSteps;
    this.opt = new AdamW(
      [{ params: params.filter((p) => p.rank >= 2) }, { params: params.filter((p) => p.rank < 2), weightDecay: 0 }],
      { lr: this.schedule(o.totalSteps), weightDecay: o.weightDecay },
    );
  }

  private schedule(total: number) {
    const { lr, warmup, lrFinal } = this.o;
    return warmupCosine({ base: lr, warmupSteps: warmup, totalSteps: Math.max(total, warmup + 1), min: lr * lrFinal });
  }

  /** Moves the end of the decay (a time-budgeted run re-estimates where it stops). */
  setTotalSteps(total: number): void {
    const t = Math.max(1, Math.round(total));
    if (t !== this.total) this.opt.lr = this.schedule(t);
    this.total = t;
  }

  /** One step on images [B, 3, S, S] (planar, [-1, 1]) with labels [B] (all ≥ 0). */
  train(images: Float32Array, labels: Int32Array): void {
    const B = labels.length, S = this.model.config.size;
    this.model.train();
    tidy(() => {
      const logits = this.model.logits(tensor(images, [B, 3, S, S]));
      const loss = crossEntropy(logits, tensor(labels, [B], 'i32'));
      backward(loss);
      this.opt.step();
      this.opt.zeroGrad();
      this.meter.add(loss);
    });
    this.step++;
  }

  /** Mean training loss (nats) since the last call; reads back. */
  takeLoss(): Promise<number> {
    return this.meter.take();
  }

  /** Frees the optimizer state and the loss accumulator (the model belongs to the caller). */
  dispose(): void {
    this.meter.dispose();
    this.opt.dispose();
  }
}

/** Accuracy figures of predictions against labels over `classes` classes. */
export interface ClassifierScores {
  count: number;
  accuracy: number;
  /** mean over the classes present of each class's recall (robust to an unbalanced set) */
  balancedAccuracy: number;
  /** the accuracy of always answering the most common class of these labels */
  majorityBaseline: number;
  /** per class: images and correct predictions */
  perClass: { count: number; correct: number }[];
}

export function scorePredictions(pred: Int32Array, labels: Int32Array, classes: number): ClassifierScores {
  const perClass = Array.from({ length: classes }, () => ({ count: 0, correct: 0 }));
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const c = perClass[labels[i]];
    c.count++;
    if (pred[i] === labels[i]) {
      c.correct++;
      correct++;
    }
  }
  const present = perClass.filter((c) => c.count > 0);
  const n = labels.length;
  return {
    count: n,
    accuracy: n ? correct / n : 0,
    balancedAccuracy: present.length ? present.reduce((s, c) => s + c.correct / c.count, 0) / present.length : 0,
    majorityBaseline: n ? Math.max(...perClass.map((c) => c.count)) / n : 0,
    perClass,
  };
}
