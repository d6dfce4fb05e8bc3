// A classifier run folder (`vqgpu train-classifier --out RUN`): checkpoints holding the model, its
// optimizer, the run config (config.classifier rebuilds the model and names the classes) and the
// loader's position, plus metrics.json (held-out accuracy). Loading needs only the folder.

import { Classifier, classify, classifyLogits, embedAndClassify, embedImages } from '../models/classifier/classifier.js';
import { checkClassifierConfig, type ClassifierConfig } from '../models/classifier/config.js';
import { expectRunKind, loadLatestCheckpoint, restoreCheckpoint, type LoadedCheckpoint } from './checkpoint.js';

export { Classifier, classify, classifyLogits, embedAndClassify, embedImages };

/** The file of a run folder holding the last evaluation (JSON). */
export const CLASSIFIER_METRICS = 'metrics.json';

export interface LoadedClassifier {
  model: Classifier;
  config: ClassifierConfig;
  /** class names, in logit order (= config.classes) */
  classes: string[];
  ckpt: LoadedCheckpoint;
}

/** Loads the newest checkpoint of a classifier run, in eval mode (refusing other kinds by name). */
export async function loadClassifierRun(dir: string): Promise<LoadedClassifier> {
  const probe = await loadLatestCheckpoint(dir);
  if (!probe) throw new Error(`'${dir}' holds no checkpoint (expected a run folder made by \`vqgpu train-classifier --out ${dir}\`).`);
  expectRunKind(probe, 'classifier', `'${dir}'`);
  const config = checkClassifierConfig((probe.config as { classifier?: unknown } | undefined)?.classifier, probe.path);
  const model = new Classifier(config);
  try {
    restoreCheckpoint(probe, { model });
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  return { model, config, classes: config.classes, ckpt: probe };
}
