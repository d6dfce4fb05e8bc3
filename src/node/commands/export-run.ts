// vqgpu export-run --run RUN --out DIR: the run's newest checkpoint with its weights, step and config
// only (no optimizer state): a run folder to ship or to sample from, a third of the bytes of an
// Adam-trained run. `--tokenizer`, `--prior` and `--run` accept the copy as they accept the run.

import { parseFlags, type FlagSpec } from '../../io/flags.js';
import { exportWeights } from '../checkpoint.js';

export const EXPORT_RUN_FLAGS: Record<string, FlagSpec> = {
  run: { type: 'string', help: 'run folder (tokenizer or prior)', required: true },
  out: { type: 'string', help: 'folder for the copy', required: true },
  f16: { type: 'boolean', help: 'store the weights as f16 (half the bytes; widened to f32 on load)' },
  weights: { type: 'string', help: "which weights: 'ema', the run's average of its weights where it kept one (train-prior --ema), else the trained ones; or 'model', the trained ones", default: 'ema', choices: ['ema', 'model'] },
};

export async function exportRun(argv: string[]): Promise<void> {
  const f = parseFlags(argv, EXPORT_RUN_FLAGS, 'export-run');
  const path = await exportWeights(f.run as string, f.out as string, { f16: f.f16 === true, weights: f.weights as 'ema' | 'model' });
  console.log(`export-run: ${f.run} → ${path}`);
}
