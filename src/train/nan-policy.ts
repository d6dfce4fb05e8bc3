// The --on-nan policy of the training commands. The optimizers skip, on the GPU, every step whose
// gradients hold a NaN or Inf and count it (optim/optimizer.ts: no readback per step); this guard
// reads the counts at log time and before each checkpoint, and then either reports them and goes on
// ('skip') or stops the run naming the loss part that went bad ('stop', the default), so that the
// last checkpoint written is the last good one.

import { faultInjection, type Optimizer } from '../optim/optimizer.js';
import type { FlagSpec } from '../io/flags.js';

export type NanPolicy = 'skip' | 'stop';

export const ON_NAN_FLAG: FlagSpec = {
  type: 'string',
  help: "a NaN/Inf loss or gradient: 'stop' (exit 1, last good checkpoint kept) or 'skip' (skip the step, count it)",
  default: 'stop',
  choices: ['stop', 'skip'],
};

export type LossParts = Record<string, number>;

export class NanGuard {
  /** skipped steps per optimizer already accounted for */
  private seen: Record<string, number> = {};
  /** steps skipped so far in this process, per optimizer */
  readonly skipped: Record<string, number> = {};

  constructor(private readonly optimizers: Record<string, Optimizer>, readonly policy: NanPolicy, private readonly out: string) {
    for (const [name, o] of Object.entries(optimizers)) {
      o.skipNonFinite = true;
      this.seen[name] = this.skipped[name] = 0;
    }
  }

  /**
   * Reads the skip counters (waits for the GPU). `losses`: the loss parts just logged, or a reader
   * for them (called only when the run must stop, to name the bad part). Returns a warning line for
   * new skips under 'skip', null when nothing went wrong; throws under 'stop'.
   */
  async check(step: number, losses: LossParts | (() => Promise<LossParts>)): Promise<string | null> {
    const fresh: string[] = [];
    for (const [name, o] of Object.entries(this.optimizers)) {
      const n = await o.skippedSteps();
      if (n > this.seen[name]) fresh.push(`${n - this.seen[name]} step(s) of optimizer '${name}'`);
      this.skipped[name] = n;
      this.seen[name] = n;
    }
    const parts = typeof losses === 'function' ? (fresh.length && this.policy === 'stop' ? await losses() : {}) : losses;
    const bad = Object.entries(parts).filter(([, v]) => !Number.isFinite(v)).map(([k, v]) => `'${k}' is ${v}`);
    if (!fresh.length && !bad.length) return null;
    const what =
      (bad.length ? `loss part ${bad.join(', ')}` : 'non-finite gradients (the logged loss parts stayed finite)') +
      (fresh.length ? `; ${fresh.join(' and ')} skipped, weights untouched` : '');
    if (this.policy === 'stop') {
      throw new Error(
        `non-finite values by step ${step}: ${what}. Stopped (--on-nan stop); the last good checkpoint in ${this.out} is kept ` +
          '(continue with --resume, perhaps with a lower --lr, or train with --on-nan skip).',
      );
    }
    return `warning: step ${step}: ${what} (--on-nan skip).`;
  }
}

/**
 * TEST HOOK: VQGPU_TEST_NAN_STEP=<k> makes optimizer step k see NaN gradients;
 * VQGPU_TEST_NAN_STEP=input:<k> asks the tokenizer loop to put a NaN into the images of step k
 * (returned here). Unset: no effect.
 */
export function installNanTestHook(): { inputStep: number } {
  const v = process.env.VQGPU_TEST_NAN_STEP;
  if (!v) return { inputStep: 0 };
  const m = /^(input:)?(\d+)$/.exec(v);
  if (!m) throw new Error(`VQGPU_TEST_NAN_STEP must be '<step>' or 'input:<step>', got '${v}'.`);
  if (m[1]) return { inputStep: Number(m[2]) };
  faultInjection.nanGradAtStep = Number(m[2]);
  return { inputStep: 0 };
}
