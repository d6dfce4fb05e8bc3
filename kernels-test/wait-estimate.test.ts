// WaitEstimate against a fake clock: a wait sleeps through ~90% of the device time that earlier
// waits for the same number of dispatches took, never for short or unknown work, shrinks its
// estimate when it overslept, and does nothing where it is disabled (browsers, GPUs).
import { describe, expect, it } from 'vitest';
import { WaitEstimate, type Clock } from '../src/device/wait-estimate';

function fakeClock() {
  const c = { t: 0, sleeps: [] as number[] };
  const clock: Clock = {
    now: () => c.t,
    sleep: async (ms) => {
      c.sleeps.push(ms);
      c.t += ms;
    },
  };
  return { c, clock };
}

function dispatch(w: WaitEstimate, dispatches: number, workgroups = 16): void {
  for (let i = 0; i < dispatches; i++) w.dispatched(workgroups);
}

/** One wait for `dispatches` dispatches submitted now, that the device finishes `deviceMs` later. */
async function wait(w: WaitEstimate, c: { t: number }, dispatches: number, deviceMs: number, workgroups = 16): Promise<void> {
  const submittedAt = c.t;
  dispatch(w, dispatches, workgroups);
  w.submitted();
  const s = await w.sleep();
  c.t = Math.max(c.t, submittedAt + deviceMs); // the wait returns when the device is done
  w.done(s);
}

describe('WaitEstimate', () => {
  it('sleeps through 80% of the shorter of the last two times the same work took, from its submit', async () => {
    const { c, clock } = fakeClock();
    const w = new WaitEstimate(true, clock);
    await wait(w, c, 5, 300); // the first run: compiles its kernels
    await wait(w, c, 5, 100); // one time seen: no sleep yet
    expect(c.sleeps).toEqual([]);
    await wait(w, c, 5, 100);
    expect(c.sleeps).toEqual([79]); // 0.8 · min(300, 100), less a millisecond for the timer's lateness
    // Host time already spent since the submit counts: only the rest is slept.
    dispatch(w, 5);
    w.submitted();
    const submittedAt = c.t;
    c.t += 50;
    const s = await w.sleep();
    expect(c.sleeps[1]).toBe(80 - 50 - 1);
    c.t = submittedAt + 100;
    w.done(s);
  });

  it('keys the estimate by the dispatches since the last wait and their workgroups', async () => {
    const { c, clock } = fakeClock();
    const w = new WaitEstimate(true, clock);
    await wait(w, c, 5, 100);
    await wait(w, c, 5, 100);
    for (let i = 0; i < 3; i++) await wait(w, c, 5, 6, 2); // as many dispatches, fewer workgroups: other (short) work
    for (let i = 0; i < 3; i++) await wait(w, c, 7, 3); // short work never sleeps
    for (let i = 0; i < 3; i++) await wait(w, c, 0, 0); // a copy alone (no dispatch) never sleeps
    expect(c.sleeps).toEqual([]);
    await wait(w, c, 5, 100);
    expect(c.sleeps).toEqual([79]);
  });

  it('forgets work it overslept, and follows work that got slower', async () => {
    const { c, clock } = fakeClock();
    const w = new WaitEstimate(true, clock);
    await wait(w, c, 3, 100);
    await wait(w, c, 3, 100);
    await wait(w, c, 3, 20); // sleeps 79 for 20 ms of work: overslept
    expect(c.sleeps).toEqual([79]);
    await wait(w, c, 3, 20); // forgotten: polls until two times are seen again
    await wait(w, c, 3, 20);
    expect(c.sleeps).toEqual([79]);
    await wait(w, c, 3, 20);
    expect(c.sleeps).toEqual([79, 15]); // 0.8 · 20
    await wait(w, c, 3, 200); // slower: slept 15 of 200
    await wait(w, c, 3, 200); // min(200, 20): still 15
    await wait(w, c, 3, 200);
    expect(c.sleeps).toEqual([79, 15, 15, 15, 159]);
  });

  it('after restart() (the pacer saw the previous step done) a read waits for the current step alone', async () => {
    const { c, clock } = fakeClock();
    const w = new WaitEstimate(true, clock);
    await wait(w, c, 40, 300);
    await wait(w, c, 40, 300);
    dispatch(w, 40); // a training step, submitted by the pacer
    w.submitted();
    w.restart(); // (no step before it to wait for)
    dispatch(w, 40); // the next step, submitted by the pacer...
    w.submitted();
    c.t += 10;
    w.restart(); // ...which waited for the first: the second alone is in flight, from now
    const s = await w.sleep();
    expect(c.sleeps).toEqual([0.8 * 300 - 1]);
    c.t += 40;
    w.done(s);
  });

  it('never sleeps where it is disabled', async () => {
    const { c, clock } = fakeClock();
    const w = new WaitEstimate(false, clock);
    for (let i = 0; i < 4; i++) await wait(w, c, 5, 100);
    expect(c.sleeps).toEqual([]);
  });
});
