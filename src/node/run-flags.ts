// The run-folder flags that training commands share: checkpoints, progress, held-out evaluation,
// the seed, the NaN policy, the folder and resuming.
import type { FlagSpec } from '../io/flags.js';
import { ON_NAN_FLAG } from '../train/nan-policy.js';

export const RUN_FLAGS: Record<string, FlagSpec> = {
  'checkpoint-every': { type: 'int', help: 'steps between checkpoints', default: 500, min: 1 },
  'log-every': { type: 'int', help: 'steps between progress lines', default: 50, min: 1 },
  'eval-every': { type: 'int', help: 'steps between held-out evaluations', default: 500, min: 1 },
  keep: { type: 'int', help: 'checkpoints kept', default: 3, min: 1 },
  seed: { type: 'int', help: 'random seed', default: 0 },
  'on-nan': ON_NAN_FLAG,
  out: { type: 'string', help: 'run folder', required: true },
  resume: { type: 'boolean', help: 'continue from the last checkpoint in --out' },
};
