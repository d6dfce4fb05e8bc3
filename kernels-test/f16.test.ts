// Host f16 ⇄ f32 conversion (src/io/f16.ts) against exact cases and an exhaustive round trip.
import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits, widenDecodedF16 } from '../src/io/f16.js';

describe('f16 conversion', () => {
  it('converts the boundary values exactly', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], // ≥ 65520 rounds to Inf
      [Infinity, 0x7c00], [-Infinity, 0xfc00], [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], // tie → even (0)
      [3 * 2 ** -25, 0x0002], [1e-9, 0x0000], [0.1, 0x2e66], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
    ];
    for (const [x, bits] of cases) expect(f32ToF16Bits(x), `f16(${x})`).toBe(bits);
    expect(f32ToF16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16Bits(NaN) & 0x3ff).not.toBe(0);
  });

  it('round-trips every half and rounds f32 to the nearest half', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = f16BitsToF32(h);
      if (Number.isNaN(x)) continue;
      expect(f32ToF16Bits(x)).toBe(h);
    }
    // a value between two neighbouring halves goes to the nearer one
    for (let h = 0x0001; h < 0x7bff; h += 97) {
      const [lo, hi] = [f16BitsToF32(h), f16BitsToF32(h + 1)];
      expect(f32ToF16Bits(lo + (hi - lo) * 0.3)).toBe(h);
      expect(f32ToF16Bits(lo + (hi - lo) * 0.7)).toBe(h + 1);
    }
  });

  it('widens F16 tensors of a decoded file and leaves the others', () => {
    const d = widenDecodedF16({
      tensors: { a: { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) }, b: { dtype: 'I32', shape: [1], data: new Int32Array([7]) } },
      metadata: {},
    });
    expect(d.tensors.a.dtype).toBe('F32');
    expect(Array.from(d.tensors.a.data as Float32Array)).toEqual([1, -2]);
    expect(d.tensors.b.dtype).toBe('I32');
  });
});
