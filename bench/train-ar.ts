// train-ar bench: training speed of the default AR prior of `vqgpu train-prior --kind ar` (4 layers
// × 128, 4 heads, MLP 4×, dropout 0.1, codebook 256, 8×8 grid, unconditional), in training tokens/s
// (B sequences × 64 predicted positions per step). Ours: PriorTrainer.train as the CLI runs it
// (fused attention, fused cross-entropy, AdamW with clipping and the warm-up/cosine schedule),
// throttled to one step in flight. Peer `tfjs-webgpu`: the same architecture, initialisation and
// loss written with TF.js ops (bench/train-ar-tfjs.ts), tf.train.adam via optimizer.minimize.
// Both train on the same fixed batch of random tokens (speed does not depend on the data), timed in
// alternating batches.
// Cases 'B<batch>_L<tokens>': B32 is the CLI's default batch.

import { runtime } from '../src/device/runtime.js';
import { makePriorConfig } from '../src/models/prior/config.js';
import { NoiseRng } from '../src/models/prior/noise.js';
import { Prior } from '../src/models/prior/prior.js';
import { manualSeed } from '../src/nn/init.js';
import { defaultGenerator } from '../src/ops/random.js';
import { makeBatch, PRIOR_DEFAULTS, PriorTrainer, type PriorBatch } from '../src/train/prior-trainer.js';
import { timeSideBySide, type Bench, type BenchResult, type Contender } from './harness.js';
import { TfArModel } from './train-ar-tfjs.js';
import { loadTf } from './tfjs.js';

const CODEBOOK = 256;

/**
 * Steps run before timing (the first compiles every shader and creates the optimizer state); the
 * harness then runs two more untimed ones (its warm-up and its estimate of the step time).
 */
const WARMUP_STEPS = 1;

export const bench: Bench = {
  name: 'train-ar',
  cases: ['B32_L64', 'B64_L64'],
  async run(caseName, opts): Promise<BenchResult> {
    const m = /^B(\d+)_L(\d+)$/.exec(caseName);
    if (!m) throw new Error(`train-ar bench: bad case '${caseName}' (want B<batch>_L<tokens>).`);
    const [B, L] = [Number(m[1]), Number(m[2])];
    const grid = Math.round(Math.sqrt(L));
    if (grid * grid !== L) throw new Error(`train-ar bench: L = ${L} is not a square token grid.`);
    manualSeed(1);
    defaultGenerator().manualSeed(1);
    const config = makePriorConfig({
      prior: 'ar', codebook: CODEBOOK, grid, classes: 0, tokenizerChecksum: 'bench',
      dim: PRIOR_DEFAULTS.dim, layers: PRIOR_DEFAULTS.layers, heads: PRIOR_DEFAULTS.heads, dropout: PRIOR_DEFAULTS.dropout,
    });
    const rng = new NoiseRng(1);
    const x = Int32Array.from({ length: B * L }, () => rng.int(CODEBOOK));
    const batch: PriorBatch = makeBatch(config, x, new Int32Array(B), rng); // inputs [start, x_0 … x_{L−2}], targets x

    const prior = new Prior(config);
    const trainer = new PriorTrainer(prior, { lr: PRIOR_DEFAULTS.lr, totalSteps: PRIOR_DEFAULTS.scheduleSteps, warmup: PRIOR_DEFAULTS.warmup });
    const oursStep = async () => {
      trainer.train(batch);
      await runtime().throttle(); // the CLI's loop: at most one step in flight
    };
    for (let i = 0; i < WARMUP_STEPS; i++) await oursStep();
    await runtime().sync();
    const paramsOurs = prior.numParameters();
    const contenders: Record<string, Contender> = { ours: { step: oursStep, sync: () => runtime().sync() } };

    let paramsTf: number | null = null;
    const tf = opts.peers ? await loadTf() : null;
    const model = tf ? new TfArModel(tf, config.transformer, L, PRIOR_DEFAULTS.lr) : null;
    const inputs = tf?.tensor2d(batch.inputs, [B, L], 'int32');
    const targets = tf?.tensor1d(batch.targets, 'int32');
    if (model && inputs && targets) {
      paramsTf = model.numParameters();
      // Reading the loss back (4 bytes) is TF.js's way to wait for the step.
      const tfStep = async () => {
        const loss = model.trainStep(inputs, targets);
        await loss.data();
        loss.dispose();
      };
      for (let i = 0; i < WARMUP_STEPS; i++) await tfStep();
      contenders.tfjs = { step: tfStep, sync: async () => {} };
    }
    // Both in alternating batches (harness.ts timeSideBySide): the machine's speed drifts, the ratio is the aim.
    const t = await timeSideBySide(contenders, 2 * opts.minSeconds);
    const sOurs = t.ours, sTf = t.tfjs ?? null;
    await trainer.takeLoss();
    trainer.dispose();
    prior.dispose();
    inputs?.dispose();
    targets?.dispose();
    model?.dispose();

    const tokens = B * L;
    return {
      bench: 'train-ar', case: caseName, metric: 'tokens/s',
      ours: tokens / sOurs, vs: { 'tfjs-webgpu': sTf === null ? null : tokens / sTf },
      notes: {
        'ms/step (ours)': sOurs * 1e3,
        ...(sTf === null ? {} : { 'ms/step (tfjs)': sTf * 1e3 }),
        'params (ours)': paramsOurs.toLocaleString('en-US'),
        ...(paramsTf === null ? {} : { 'params (tfjs)': paramsTf.toLocaleString('en-US') }),
        model: `${PRIOR_DEFAULTS.layers}×${PRIOR_DEFAULTS.dim}, ${PRIOR_DEFAULTS.heads} heads, dropout ${PRIOR_DEFAULTS.dropout}, K ${CODEBOOK}`,
      },
    };
  },
};
