// Where will this run stop? A run given --minutes stops when its time runs out, at a step that
// depends on the machine's speed; a learning-rate decay meant to end with the run (the tokenizer's
// `--schedule-steps auto`) needs that step in advance. This estimates it from the speed measured
// so far, skipping the first steps (pipeline compilation makes them slow), and is re-asked as the
// run goes, so the estimate sharpens as the end nears.

export interface StopEstimateOptions {
  /** the step the run started (or resumed) at */
  startStep: number;
  /** the run stops at this step at the latest (Infinity: no step limit) */
  stopAt: number;
  /** the run stops at this time, in ms of `now()` (Infinity: no time limit) */
  deadline: number;
  /** steps after startStep before speed is measured (default 10) */
  skipSteps?: number;
  /** the clock, in ms (default Date.now; tests pass a fake one) */
  now?: () => number;
}

export class StopEstimate {
  private mark: { step: number; time: number } | null = null;
  private readonly skip: number;
  private readonly now: () => number;

  constructor(private readonly o: StopEstimateOptions) {
    if (!Number.isFinite(o.stopAt) && !Number.isFinite(o.deadline)) throw new Error('StopEstimate: the run has neither a step limit nor a deadline.');
    this.skip = o.skipSteps ?? 10;
    this.now = o.now ?? Date.now;
  }

  /**
   * The step the run will stop at, given that `step` steps are done now: `stopAt` without a
   * deadline, else the earlier of `stopAt` and the step the speed measured since the first
   * `skipSteps` reaches at the deadline (at least `step`); null while that speed is not measured yet.
   */
  at(step: number): number | null {
    const { stopAt, deadline, startStep } = this.o;
    if (!Number.isFinite(deadline)) return stopAt;
    const t = this.now();
    if (step < startStep + this.skip) return null;
    if (!this.mark) {
      this.mark = { step, time: t };
      return null;
    }
    if (step === this.mark.step || t <= this.mark.time) return null;
    const perMs = (step - this.mark.step) / (t - this.mark.time);
    const reach = step + Math.max(0, deadline - t) * perMs;
    return Math.max(step, Math.min(stopAt, Math.round(reach)));
  }
}
