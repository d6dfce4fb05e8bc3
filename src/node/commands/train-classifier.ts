// vqgpu train-classifier --data <emoji|synthetic|DIR> --size 32 --out RUN [--steps N | --minutes M]
//   [--batch B] [--lr LR] [--weight-decay W] [--schedule-steps S] [--widths 32,64,128] [--depth D]
//   [--shift P] [--seed S] [--on-nan stop|skip] [--resume]
// Trains the small CNN of src/models/classifier/ on the data set's classes (emoji categories, or a
// folder's immediate subfolders; unlabelled images are left out) with AdamW + cross-entropy, random
// flips and shifts; evaluates the held-out split (accuracy, class-balanced accuracy, the
// majority-class baseline, loss), prints it as one JSON line and writes it to RUN/metrics.json.
// Checkpoints are atomic and hold the model, the optimizer, the config and the loader position, so
// --resume continues the same stream: bit-exactly when the decay's end is the same (the same
// --steps, or --schedule-steps); a --minutes run re-targets the decay to the resumed run's own end.
// Ctrl-C / SIGTERM writes a checkpoint and exits with code 130.

import { join } from 'node:path';
import { runtime } from '../../device/runtime.js';
import { argmaxRows, Classifier, classifyLogits } from '../../models/classifier/classifier.js';
import { checkClassifierConfig, makeClassifierConfig, type ClassifierConfig } from '../../models/classifier/config.js';
import { manualSeed } from '../../nn/init.js';
import { StopEstimate } from '../../train/stop-estimate.js';
import { CLASSIFIER_DEFAULTS, ClassifierTrainer, scorePredictions, type ClassifierScores } from '../../train/classifier-trainer.js';
import { RUN_FLAGS } from '../run-flags.js';
import { parseFlags, UsageError, type FlagSpec } from '../../io/flags.js';
import { writeFileAtomicSync } from '../atomic-file.js';
import { openRunFolder, restoreCheckpoint, saveCheckpoint } from '../checkpoint.js';
import { CLASSIFIER_METRICS } from '../classifier-run.js';
import { openDataSet, type DataSet } from '../dataset.js';
import { ImageLoader } from '../image-loader.js';
import { installNanTestHook, NanGuard, type NanPolicy } from '../../train/nan-policy.js';
import { onInterrupt, progressLine } from '../progress.js';

export const TRAIN_CLASSIFIER_FLAGS: Record<string, FlagSpec> = {
  data: { type: 'string', help: "'emoji' (categories), 'synthetic', or an image folder whose subfolders are the classes", default: 'emoji' },
  size: { type: 'int', help: 'image side (pixels)', default: 32, min: 8, max: 1024 },
  widths: { type: 'string', help: 'channels per stage, comma-separated (each stage after the first halves the side)', default: '32,64,128' },
  depth: { type: 'int', help: 'further 3×3 convolutions per stage (1 costs ~4× the compute of 0)', default: 0, min: 0, max: 8 },
  steps: { type: 'int', help: 'stop after this many steps', min: 1 },
  minutes: { type: 'number', help: 'stop after this many minutes', min: 0 },
  batch: { type: 'int', help: 'images per step', default: CLASSIFIER_DEFAULTS.batch, min: 1, max: 4096 },
  lr: { type: 'number', help: 'peak learning rate (warm-up, then a cosine decay to where the run stops)', default: CLASSIFIER_DEFAULTS.lr, min: 0 },
  'weight-decay': { type: 'number', help: 'AdamW weight decay (convolution and linear weights)', default: CLASSIFIER_DEFAULTS.weightDecay, min: 0 },
  'schedule-steps': { type: 'int', help: 'fix the end of the cosine decay at this step (default: where the run stops: --steps, or the end of --minutes at the measured speed)', min: 1 },
  warmup: { type: 'int', help: 'warm-up steps', default: CLASSIFIER_DEFAULTS.warmup, min: 0 },
  shift: { type: 'int', help: 'augmentation: random translations by up to this many pixels (white fill), besides the flips', default: CLASSIFIER_DEFAULTS.shift, min: 0, max: 64 },
  ...RUN_FLAGS,
};

interface RunConfig {
  classifier: ClassifierConfig;
  data: string;
  batch: number;
  lr: number;
  weightDecay: number;
  warmup: number;
  shift: number;
  seed: number;
  /** a fixed end of the decay (absent: where each run, or resumed run, stops) */
  scheduleSteps?: number;
}

function parseWidths(spec: string): number[] {
  const w = spec.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (!w.length || w.some((x) => !Number.isInteger(x) || x < 1 || x > 4096)) {
    throw new UsageError(`train-classifier: --widths '${spec}' must be comma-separated integers in 1..4096 (e.g. 32,64,128).`);
  }
  return w;
}

/** The data set's labelled items only (label -1: in no class, left out), with a clear error below 2 classes. */
export function labelledDataSet(data: DataSet): DataSet {
  if (data.labels.length < 2) {
    const where = data.name === 'emoji' || data.name === 'synthetic' ? '' : `: put each class's images in its own subfolder of '${data.name}' (images directly in it belong to no class)`;
    throw new Error(`data set '${data.name}' has ${data.labels.length} class${data.labels.length === 1 ? '' : 'es'}; a classifier needs at least 2${where}.`);
  }
  return { ...data, items: data.items.filter((it) => it.label >= 0) };
}

export interface ClassifierEvaluation extends ClassifierScores {
  /** mean cross-entropy (nats) */
  loss: number;
}

/** Accuracy and loss of a classifier on a split of a (labelled) data set. */
export async function evaluateClassifier(
  model: Classifier, data: DataSet, o: { split: 'heldout' | 'train' | 'all'; batch?: number; onBadFile?: (p: string, why: string) => void },
): Promise<ClassifierEvaluation> {
  const S = model.config.size, C = model.numClasses;
  const loader = new ImageLoader(data, { size: S, batch: o.batch ?? 64, split: o.split, onBadFile: o.onBadFile });
  const preds: Int32Array[] = [], labels: Int32Array[] = [];
  let nll = 0, n = 0;
  const wasTraining = model.training;
  model.eval();
  for (const b of loader.epoch()) {
    const k = b.items.length;
    const logits = await classifyLogits(model, b.images, k, k);
    for (let i = 0; i < k; i++) {
      const row = logits.subarray(i * C, (i + 1) * C);
      const m = Math.max(...row);
      let s = 0;
      for (const v of row) s += Math.exp(v - m);
      nll += m + Math.log(s) - row[b.labels[i]];
    }
    n += k;
    preds.push(argmaxRows(logits, k, C));
    labels.push(b.labels);
  }
  model.train(wasTraining);
  const cat = (xs: Int32Array[]) => {
    const out = new Int32Array(xs.reduce((s, x) => s + x.length, 0));
    let at = 0;
    for (const x of xs) {
      out.set(x, at);
      at += x.length;
    }
    return out;
  };
  return { ...scorePredictions(cat(preds), cat(labels), C), loss: n ? nll / n : NaN };
}

export async function trainClassifier(argv: string[]): Promise<void> {
  const f = parseFlags(argv, TRAIN_CLASSIFIER_FLAGS, 'train-classifier');
  if (f.steps === undefined && f.minutes === undefined) throw new UsageError('train-classifier: give --steps N or --minutes M.');
  const widths = parseWidths(f.widths as string);
  const out = f.out as string;
  const rt = runtime();

  const prior = await openRunFolder(out, !!f.resume, 'classifier', 'train-classifier');
  const saved = prior?.config as RunConfig | undefined;
  const dataSpec = saved?.data ?? (f.data as string);
  const data = labelledDataSet(openDataSet(dataSpec));
  for (const d of data.dropped ?? []) console.error(`note: class '${d.name}' left out (${d.count} images, fewer than the minimum).`);
  manualSeed(Number(saved?.seed ?? f.seed));
  const run: RunConfig = saved
    ? { ...saved, classifier: checkClassifierConfig(saved.classifier, prior!.path) }
    : {
        classifier: makeClassifierConfig({ size: Number(f.size), classes: data.labels, widths, depth: Number(f.depth) }),
        data: dataSpec, batch: Number(f.batch), lr: Number(f.lr), weightDecay: Number(f['weight-decay']),
        warmup: Number(f.warmup), shift: Number(f.shift), seed: Number(f.seed),
        ...(f['schedule-steps'] !== undefined ? { scheduleSteps: Number(f['schedule-steps']) } : {}),
      };
  const cfg = run.classifier;
  if (cfg.classes.join('\n') !== data.labels.join('\n')) {
    throw new Error(`the classifier in '${out}' was trained on the classes ${cfg.classes.join(', ')}, but '${dataSpec}' now has ${data.labels.join(', ')}.`);
  }

  const badFiles = new Set<string>();
  const onBadFile = (p: string, why: string) => {
    if (badFiles.has(p)) return;
    badFiles.add(p);
    console.error(`warning: skipping ${why}`);
  };
  const loader = new ImageLoader(data, { size: cfg.size, batch: run.batch, split: 'train', seed: run.seed, flip: true, shift: run.shift, onBadFile });
  const model = new Classifier(cfg);
  const stopAt = f.steps !== undefined ? Number(f.steps) : Infinity;
  const deadline = f.minutes !== undefined ? Date.now() + Number(f.minutes) * 60_000 : Infinity;
  const trainer = new ClassifierTrainer(model, {
    lr: run.lr, weightDecay: run.weightDecay, warmup: run.warmup, lrFinal: CLASSIFIER_DEFAULTS.lrFinal,
    totalSteps: run.scheduleSteps ?? (Number.isFinite(stopAt) ? stopAt : 1000),
  });
  if (prior) {
    restoreCheckpoint(prior, { model, optimizer: trainer.opt });
    trainer.step = prior.step;
    loader.setState((prior.extra as { loader: { epoch: number; pos: number } }).loader);
    console.error(`resumed from ${prior.path} at step ${prior.step}`);
  }
  const heldCount = data.items.filter((it) => it.heldout).length;
  console.error(
    `train-classifier: ${data.name}, ${cfg.classes.length} classes, ${loader.items.length} training images (${heldCount} held out), ` +
      `${cfg.size}px, widths ${cfg.widths.join(',')} × depth ${cfg.depth}, ${model.numParameters().toLocaleString()} parameters, batch ${run.batch}, ` +
      `adapter: ${rt.report.description || rt.report.vendor}`,
  );

  const testHook = installNanTestHook();
  if (testHook.inputStep) throw new Error('VQGPU_TEST_NAN_STEP=input:<k> applies to train-tokenizer only.');
  const nan = new NanGuard({ classifier: trainer.opt }, f['on-nan'] as NanPolicy, out);
  let savedStep = -1;
  const save = async () => {
    const warning = await nan.check(trainer.step, async () => ({ loss: await trainer.takeLoss() }));
    if (warning) console.error(warning);
    savedStep = trainer.step;
    await saveCheckpoint(out, { model, optimizer: trainer.opt, step: trainer.step, config: run, extra: { loader: loader.state } }, { keep: Number(f.keep) });
  };
  let lastEval: { step: number; m: ClassifierEvaluation } | null = null;
  const evaluate = async () => {
    if (!heldCount) return null;
    if (lastEval?.step === trainer.step) return lastEval.m;
    const m = await evaluateClassifier(model, data, { split: 'heldout', batch: 128, onBadFile });
    console.log(`held-out: step ${trainer.step} | accuracy ${(100 * m.accuracy).toFixed(1)}% | balanced ${(100 * m.balancedAccuracy).toFixed(1)}% | loss ${m.loss.toFixed(4)} | majority baseline ${(100 * m.majorityBaseline).toFixed(1)}%`);
    lastEval = { step: trainer.step, m };
    return m;
  };

  let interrupted = false;
  const unhook = onInterrupt(() => (interrupted = true));
  const startStep = trainer.step;
  const every = (n: number) => trainer.step % n === 0;
  // The decay ends where the run stops: --steps, or where --minutes runs out at the measured speed.
  const stopEstimate = run.scheduleSteps ? null : new StopEstimate({ startStep, stopAt, deadline });
  // Speed: measured after the first 10 steps (pipeline compilation makes them slow).
  let speedMark: { step: number; t: number } | null = null;
  let lastT = Date.now(), lastStep = trainer.step;
  const t0 = Date.now();
  try {
    while (trainer.step < stopAt && Date.now() < deadline && !interrupted) {
      const b = loader.next();
      const end = stopEstimate?.at(trainer.step);
      if (end != null) trainer.setTotalSteps(end);
      trainer.train(b.images, b.labels);
      await rt.throttle(); // at most one step in flight (see train-tokenizer)
      if (!speedMark && trainer.step >= startStep + 10) speedMark = { step: trainer.step, t: Date.now() };
      if (every(Number(f['log-every']))) {
        const loss = await trainer.takeLoss();
        const now = Date.now();
        const ips = ((trainer.step - lastStep) * run.batch) / ((now - lastT) / 1000);
        lastT = now;
        lastStep = trainer.step;
        const left = Math.min(stopAt === Infinity ? Infinity : ((stopAt - trainer.step) * run.batch) / ips, deadline === Infinity ? Infinity : (deadline - now) / 1000);
        console.log(progressLine(trainer.step, stopAt, { loss, 'img/s': ips, lr: trainer.opt.currentLr }, left));
        const warning = await nan.check(trainer.step, { loss });
        if (warning) console.error(warning);
      }
      if (every(Number(f['eval-every']))) await evaluate();
      if (every(Number(f['checkpoint-every']))) await save();
    }
  } finally {
    unhook();
  }
  await rt.sync();
  const tEnd = Date.now();
  if (savedStep !== trainer.step && (trainer.step > startStep || !prior)) await save();
  const secs = (tEnd - t0) / 1000;
  const steady = speedMark && trainer.step > speedMark.step ? ((trainer.step - speedMark.step) * run.batch) / ((tEnd - speedMark.t) / 1000) : null;
  const skipped = nan.skipped.classifier ? `, ${nan.skipped.classifier} step(s) skipped for non-finite gradients` : '';
  console.error(`done: step ${trainer.step} in ${secs.toFixed(0)} s${steady ? `, ${steady.toFixed(0)} img/s after the first 10 steps` : ''}${skipped}${interrupted ? ' (interrupted, checkpoint written; continue with --resume)' : ''}`);
  if (interrupted) {
    process.exitCode = 130;
    return;
  }
  const m = await evaluate();
  if (!m) console.error(`note: '${data.name}' has no held-out labelled images; no accuracy measured.`);
  const metrics = {
    step: trainer.step,
    data: dataSpec,
    classes: cfg.classes,
    heldout: m && {
      count: m.count, accuracy: m.accuracy, balancedAccuracy: m.balancedAccuracy, majorityBaseline: m.majorityBaseline, loss: m.loss,
      perClass: Object.fromEntries(cfg.classes.map((c, i) => [c, m.perClass[i]])),
    },
    train: {
      imagesSeen: trainer.step * run.batch, stepsThisRun: trainer.step - startStep, seconds: secs,
      imagesPerSecond: steady, adapter: rt.report.description || rt.report.vendor,
    },
  };
  writeFileAtomicSync(join(out, CLASSIFIER_METRICS), new TextEncoder().encode(JSON.stringify(metrics, null, 1) + '\n'));
  console.log(JSON.stringify({ step: trainer.step, heldoutAccuracy: m?.accuracy ?? null, balancedAccuracy: m?.balancedAccuracy ?? null, majorityBaseline: m?.majorityBaseline ?? null, heldoutLoss: m?.loss ?? null, heldout: m?.count ?? 0, imagesPerSecond: steady }));
  if (badFiles.size) console.error(`warning: ${badFiles.size} bad image file(s) were skipped:\n  ${[...badFiles].join('\n  ')}`);
}
