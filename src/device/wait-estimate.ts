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
// workgroups): the shorter of the last two times seen (the first run of a kernel includes its
// compilation). The wait sleeps on a timer through 80% of it, counted from when the device could
// start (the first submit since the last wait, or the last wait's end), and only then asks Dawn.
// A wait that finds the work already done when it asks overslept, by an unknown amount: its key is
// forgotten, and the next waits for that work poll until two times are seen again. Waits of short
// work (under SLEEP_MIN_MS) never sleep: timers wake a millisecond or two late.

const SLEEP_MIN_MS = 8;
/** the share of the expected device time slept: the rest is polled, as these machines' speed varies by ±20% */
const SLEEP_SHARE = 0.8;
/** a wait that ends within this after its sleep overslept */
const OVERSLEPT_MS = 2;
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

  /** the last two device times (ms) of each kind of work ("dispatches:workgroups"), newest first */
  private readonly ms = new Map<string, number[]>();
  /** work dispatched since the last wait (what the next wait waits for): dispatches, their workgroups */
  private workDispatches = 0;
  private workGroups = 0;
  /** the same since the last wait or pacer step (see `restart`) */
  private stepDispatches = 0;
  private stepGroups = 0;
  /** first submit since the last wait (−1: none) */
  private firstSubmit = -1;
  private lastDone = 0;

  /** Record one dispatch of `workgroups` workgroups. */
  dispatched(workgroups: number): void {
    this.workDispatches++;
    this.workGroups += workgroups;
    this.stepDispatches++;
    this.stepGroups += workgroups;
  }

  /** Record a submit. */
  submitted(now = this.clock.now()): void {
    if (this.firstSubmit < 0) this.firstSubmit = now;
  }

  /** Sleeps (if worth it) before a wait; returns what `done` needs. */
  async sleep(now = this.clock.now()): Promise<{ key: string; start: number; asked: number; slept: boolean }> {
    const key = this.workDispatches === 0 ? '' : `${this.workDispatches}:${this.workGroups}`;
    const start = Math.max(this.firstSubmit < 0 ? now : this.firstSubmit, this.lastDone);
    const seen = this.ms.get(key);
    // Two times seen, and the shorter counts: the first run of a kernel includes its compilation.
    const est = seen && seen.length === 2 ? SLEEP_SHARE * Math.min(seen[0], seen[1]) : 0;
    const asleep = start + est - now;
    const slept = this.enabled && est >= SLEEP_MIN_MS && asleep >= SLEEP_MIN_MS;
    if (slept) await this.clock.sleep(asleep - 1);
    return { key, start, asked: this.clock.now(), slept };
  }

  /** The wait that `sleep` began is over: its work took until `done`. */
  done(w: { key: string; start: number; asked: number; slept: boolean }, done = this.clock.now()): void {
    this.workDispatches = this.workGroups = this.stepDispatches = this.stepGroups = 0;
    this.firstSubmit = -1;
    this.lastDone = done;
    if (w.key === '') return;
    // Done (almost) at once after a sleep: the work took less than the sleep, by an unknown amount.
    // Forget it; the next wait for this work sleeps no more until two times are seen again.
    if (w.slept && done - w.asked < OVERSLEPT_MS) {
      this.ms.delete(w.key);
      return;
    }
    if (this.ms.size >= MAX_KEYS && !this.ms.has(w.key)) this.ms.clear();
    this.ms.set(w.key, [done - w.start, ...(this.ms.get(w.key) ?? []).slice(0, 1)]);
  }

  /**
   * The pacer saw the previous training step done: what is in flight now is the work dispatched
   * since the pacer's previous step (the step just submitted), which the device runs from `now`.
   */
  restart(now = this.clock.now()): void {
    this.workDispatches = this.stepDispatches;
    this.workGroups = this.stepGroups;
    this.stepDispatches = this.stepGroups = 0;
    this.firstSubmit = this.workDispatches > 0 ? now : -1;
    this.lastDone = now;
  }
}
