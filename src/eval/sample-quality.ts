// One row of `vqgpu eval-samples`: a set of images (samples of a prior, or a reference set) scored
// against the training images in a classifier's feature space. Browser-safe and device-free: it
// takes features (and predicted classes) that the caller computed.
//   kid, kid_std       KID (×1, unbiased, cubic kernel, subsets) against the training features
//   precision, recall  Kynkäänniemi et al. (k = 3) against the training features; recall is taken
//                      on `recallSize` rows of the set, so that rows of different N compare
//   class_accuracy     share of the set that the classifier puts in the class it was drawn for
//   nn_ratio           median nearest-training distance over the held-out images' own median
//   copies             share of token grids equal to a training grid (samples only)

import { kernelInceptionDistance } from './kid.js';
import { copies, median, nearestDistances } from './memorisation.js';
import { manifoldShare, knnRadii2 } from './precision-recall.js';

export interface FeatureSet {
  /** [n, d] row-major */
  features: Float32Array;
  n: number;
}

export interface QualityRow {
  n: number;
  kid: number;
  kid_std: number;
  precision: number;
  recall: number;
  class_accuracy: number | null;
  nn_ratio: number;
  copies: number | null;
}

/** What every row is scored against: the training features, their k-NN radii and the held-out median distance. */
export interface QualityReference {
  train: FeatureSet;
  d: number;
  /** squared 3-NN radii of the training features (precision's manifold) */
  trainRadii2: Float64Array;
  /** the held-out images' median distance to their nearest training feature (nn_ratio's unit) */
  heldoutMedianNN: number;
  /** rows of a set used for recall (the smallest set's size, usually the held-out split's) */
  recallSize: number;
  k: number;
}

export function qualityReference(train: FeatureSet, heldout: FeatureSet, d: number, recallSize: number, k = 3): QualityReference {
  return {
    train, d, k, recallSize,
    trainRadii2: knnRadii2(train.features, train.n, d, k),
    heldoutMedianNN: median(nearestDistances(heldout.features, heldout.n, train.features, train.n, d)),
  };
}

/** The first `n` rows of a feature set (sets are drawn in random order, so a prefix is a random subset). */
function prefix(s: FeatureSet, n: number, d: number): FeatureSet {
  return n >= s.n ? s : { features: s.features.subarray(0, n * d), n };
}

export interface RowInputs {
  set: FeatureSet;
  /** class each image was drawn for / belongs to (-1: none), and the classifier's prediction */
  classes?: { wanted: Int32Array; predicted: Int32Array };
  /** token grids [n, L] and the training grids [nTrain, L], for `copies` */
  grids?: { samples: Int32Array; train: Int32Array; nTrain: number; L: number };
  kidSeed?: number;
}

export function qualityRow(ref: QualityReference, r: RowInputs): QualityRow {
  const { d } = ref;
  const { kid, kidStd } = kernelInceptionDistance(r.set.features, r.set.n, ref.train.features, ref.train.n, d, { seed: r.kidSeed ?? 0 });
  const precision = manifoldShare(r.set.features, r.set.n, ref.train.features, ref.train.n, ref.trainRadii2, d);
  // Recall: the share of training features inside the set's own k-NN manifold, on recallSize rows.
  const sub = prefix(r.set, ref.recallSize, d);
  const recall = sub.n > ref.k ? manifoldShare(ref.train.features, ref.train.n, sub.features, sub.n, knnRadii2(sub.features, sub.n, d, ref.k), d) : NaN;
  let classAccuracy: number | null = null;
  if (r.classes) {
    let hit = 0, counted = 0;
    for (let i = 0; i < r.set.n; i++) {
      if (r.classes.wanted[i] < 0) continue;
      counted++;
      if (r.classes.predicted[i] === r.classes.wanted[i]) hit++;
    }
    classAccuracy = counted ? hit / counted : null;
  }
  const nn = median(nearestDistances(r.set.features, r.set.n, ref.train.features, ref.train.n, d)) / ref.heldoutMedianNN;
  const g = r.grids;
  return {
    n: r.set.n, kid, kid_std: kidStd, precision, recall, class_accuracy: classAccuracy, nn_ratio: nn,
    copies: g ? copies(g.samples, r.set.n, g.train, g.nTrain, g.L) : null,
  };
}
