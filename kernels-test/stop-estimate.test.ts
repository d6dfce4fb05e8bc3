// The run-length estimate behind `train-tokenizer --schedule-steps auto`, on a fake clock.
import { describe, expect, it } from 'vitest';
import { StopEstimate } from '../src/train/stop-estimate.js';

describe('StopEstimate', () => {
  it('is the step limit when there is no deadline', () => {
    const e = new StopEstimate({ startStep: 0, stopAt: 500, deadline: Infinity });
    expect(e.at(0)).toBe(500);
    expect(e.at(499)).toBe(500);
  });

  it('skips the slow first steps, then extrapolates the measured speed to the deadline', () => {
    let now = 0;
    // 10 slow steps (compilation, 1 s each), then 100 ms per step; 60 s in all.
    const e = new StopEstimate({ startStep: 0, stopAt: Infinity, deadline: 60_000, skipSteps: 10, now: () => now });
    for (let s = 0; s < 10; s++) {
      expect(e.at(s)).toBeNull();
      now += 1000;
    }
    expect(e.at(10)).toBeNull(); // marks the start of the measurement
    now += 100;
    // 1 step in 100 ms with 49.9 s left: 11 + 499 = 510.
    expect(e.at(11)).toBe(510);
    now += 9_900;
    expect(e.at(110)).toBe(510);
    // The machine slows down (100 steps in 20 s): the estimate follows the average speed since the
    // mark, 200 steps in 30 s, over the 20 s left.
    now += 20_000;
    expect(e.at(210)).toBe(Math.round(210 + 20_000 * (200 / 30_000)));
  });

  it('never exceeds the step limit nor falls below the steps done', () => {
    let now = 0;
    const e = new StopEstimate({ startStep: 100, stopAt: 300, deadline: 10_000, skipSteps: 0, now: () => now });
    expect(e.at(100)).toBeNull();
    now += 10;
    expect(e.at(110)).toBe(300); // 1 step/ms would reach ~10,000
    now = 20_000; // past the deadline
    expect(e.at(150)).toBe(150);
  });

  it('refuses a run with neither a step limit nor a deadline', () => {
    expect(() => new StopEstimate({ startStep: 0, stopAt: Infinity, deadline: Infinity })).toThrow(/neither/);
  });
});
