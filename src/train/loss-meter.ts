// A training loss summed on the device over steps and read back only when asked: no readback
// inside a step. Used by the prior and classifier trainers (scalar losses).

import { noGrad } from '../autograd/tape.js';
import { zeros } from '../ops/creation.js';
import { add } from '../ops/elementwise.js';
import { reshape } from '../ops/layout.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

export class LossMeter {
  private acc: Tensor = keep(zeros([]));
  private steps = 0;

  /** Adds one step's scalar loss (call inside the step's tidy; the loss keeps its graph). */
  add(loss: Tensor): void {
    const next = add(this.acc, noGrad(() => reshape(loss, [])));
    this.acc.dispose();
    this.acc = keep(next);
    this.steps++;
  }

  /** The mean loss since the last call; reads back and starts over. */
  async take(): Promise<number> {
    const v = await this.acc.item();
    const n = Math.max(1, this.steps);
    this.acc.dispose();
    this.acc = keep(zeros([]));
    this.steps = 0;
    return v / n;
  }

  dispose(): void {
    this.acc.dispose();
  }
}
