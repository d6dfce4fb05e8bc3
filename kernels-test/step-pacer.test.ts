// StepPacer against a fake device: each step is submitted at once, and a call returns only when the
// step submitted by the call before it is done (two steps queued at most), never waiting on its own.
import { describe, expect, it } from 'vitest';
import { StepPacer, type PacerHost } from '../src/device/step-pacer';

function fakeHost() {
  const log: string[] = [];
  let n = 0;
  const finish = new Map<string, () => void>();
  const device = {
    createBuffer: () => {
      const name = `b${n++}`;
      return {
        name,
        mapAsync: () => new Promise<void>((resolve) => finish.set(name, () => (log.push(`done ${name}`), resolve()))),
        unmap: () => {},
      };
    },
  } as unknown as GPUDevice;
  const host: PacerHost = {
    device,
    copy: (_s, _so, dst) => log.push(`marker ${(dst as unknown as { name: string }).name}`),
    flush: () => log.push('submit'),
    guarded: (wait) => wait,
  };
  return { host, log, finish };
}

describe('StepPacer', () => {
  it('submits each step at once and waits for the one before it', async () => {
    const { host, log, finish } = fakeHost();
    const pacer = new StepPacer(host);
    await pacer.step(); // first step: nothing in flight before it, returns at once
    expect(log).toEqual(['marker b1', 'submit']); // b0 is the copy source
    let returned = false;
    const second = pacer.step().then(() => (returned = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['marker b1', 'submit', 'marker b2', 'submit']); // submitted before waiting
    expect(returned).toBe(false); // step 1 is not done yet
    finish.get('b1')!();
    await second;
    expect(returned).toBe(true);
    // The freed marker is reused; the wait is on step 2's marker, not on step 3's own.
    const third = pacer.step();
    await new Promise((r) => setTimeout(r, 5));
    expect(log.slice(-2)).toEqual(['marker b1', 'submit']);
    finish.get('b2')!();
    await third;
  });

  it('after idle() (the whole queue waited for) the next step does not wait', async () => {
    const { host, log } = fakeHost();
    const pacer = new StepPacer(host);
    await pacer.step();
    pacer.idle();
    await pacer.step(); // would hang on b1's map if it still counted as in flight
    expect(log.filter((l) => l === 'submit')).toHaveLength(2);
  });
});
