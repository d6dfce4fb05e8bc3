import { describe, expect, it } from 'vitest';
import { fmtDuration, progressLine } from '../src/node/progress';

describe('progress line', () => {
  it('formats seconds, minutes and hours', () => {
    expect(fmtDuration(0)).toBe('0s');
    expect(fmtDuration(45.2)).toBe('45s');
    expect(fmtDuration(185)).toBe('3m05s');
    expect(fmtDuration(3720)).toBe('1h02m');
    expect(fmtDuration(Infinity)).toBe('?');
  });

  it('never shows 60 in the seconds place (rounds before splitting)', () => {
    expect(fmtDuration(59.6)).toBe('1m00s');
    expect(fmtDuration(119.7)).toBe('2m00s');
  });

  it('clamps a spent time budget at zero instead of printing a negative time', () => {
    expect(fmtDuration(-0.4)).toBe('0s');
    expect(fmtDuration(-61)).toBe('0s');
    expect(progressLine(10, Infinity, { loss: 0.5 }, -3)).toBe('step 10 | loss 0.5000 | left 0s');
  });
});
