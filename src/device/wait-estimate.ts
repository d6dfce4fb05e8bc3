// Sleeping through a wait for the device (Runtime.read and Runtime.sync), so that Node's host
// thread does not take a core from a CPU adapter while the work runs.
//
// While any promise of Dawn's is pending, dawn.node polls its events from a setImmediate loop that
// keeps one CPU core busy; on a CPU adapter (lavapipe on two cores) that core is half the machine,
// and the kernels the wait is for run on what is left. The step pacer (step-pacer.ts) already
// sleeps through a training step; this does the same for every other wait: a sampler's per-step
// readback, a benchmark's sync, an evaluation loop.
//
// The device time of a wait is estimated from earlier waits for the same work, keyed by the number
// of dispatches since the previous wait and their workgroups in all (a sampler's steps and a
// benchmark's batches repeat both exactly; other work of as many dispatches rarely has as many
// workgroups). The wait sleeps on a timer through 90% of the estimate, counted from
// when the device could start (the first submit since the last wait, or the last wait's end), and
// only then asks Dawn. A wait that finds the work already done when it asks overslept: its key's
// estimate shrinks; otherwise the estimate follows the time the work took. Waits of short work
// (under SLEEP_MIN_MS) never sleep: timers wake a millisecond or two late.

const SLEEP_MIN_MS = 8;
/** keys kept (distinct amounts of work); the table is cleared beyond it */
const MAX_KEYS = 512;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
const realClock: Clock = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

export class WaitEstimate {
  /** `enabled`: sleep at all (Node on a CPU adapter, where Dawn's polling takes a core the kernels need) */
  constructor(
    private readonly enabled: boolean,
    private readonly clock: Clock = realClock,
  ) {}

  /** estimated device ms per kind of work ("dispatches:workgroups") */
  private readonly ms = new Map<string, number>();
  /** work dispatched since the last wait: what the next wait waits for */
  private work = { dispatches: 0, workgroups: 0 };
  /** work dispatched since the last wait or pacer step (see `restart`) */
  private step = { dispatches: 0, workgroups: 0 };
  /** first submit since the last wait (−1: none) */
  private firstSubmit = -1;
  private lastDone = 0;

  /** Record one dispatch of `workgroups` workgroups. */
  dispatched(workgroups: number): void {
    this.work.dispatches++;
    this.work.workgroups += workgroups;
    this.step.dispatches++;
    this.step.workgroups += workgroups;
  }

  /** Record a submit. */
  submitted(now = this.clock.now()): void {
    if (this.firstSubmit < 0) this.firstSubmit = now;
  }

  /** Sleeps (if worth it) before a wait; returns what `done` needs. */
  async sleep(now = this.clock.now()): Promise<{ key: string; start: number; asked: number }> {
    const key = this.work.dispatches === 0 ? '' : `${this.work.dispatches}:${this.work.workgroups}`;
    const start = Math.max(this.firstSubmit < 0 ? now : this.firstSubmit, this.lastDone);
    const est = key === '' ? 0 : (this.ms.get(key) ?? 0);
    const asleep = start + 0.9 * est - now;
    if (this.enabled && est >= SLEEP_MIN_MS && asleep >= SLEEP_MIN_MS) await this.clock.sleep(asleep - 1);
    return { key, start, asked: this.clock.now() };
  }

  /** The wait that `sleep` began is over: its work took until `done`. */
  done(w: { key: string; start: number; asked: number }, done = this.clock.now()): void {
    this.work = { dispatches: 0, workgroups: 0 };
    this.step = { dispatches: 0, workgroups: 0 };
    this.firstSubmit = -1;
    this.lastDone = done;
    if (w.key === '') return;
    const est = this.ms.get(w.key) ?? 0;
    // Done (almost) at once after asking: the work took less than the sleep; the estimate shrinks.
    const overslept = est > 0 && done - w.asked < Math.max(2, 0.02 * est);
    if (this.ms.size >= MAX_KEYS && !this.ms.has(w.key)) this.ms.clear();
    this.ms.set(w.key, overslept ? 0.8 * est : est === 0 ? done - w.start : 0.7 * est + 0.3 * (done - w.start));
  }

  /**
   * The pacer saw the previous training step done: what is in flight now is the work dispatched
   * since the pacer's previous step (the step just submitted), which the device runs from `now`.
   */
  restart(now = this.clock.now()): void {
    this.work = this.step;
    this.step = { dispatches: 0, workgroups: 0 };
    this.firstSubmit = this.work.dispatches > 0 ? now : -1;
    this.lastDone = now;
  }
}
