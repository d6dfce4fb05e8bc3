// IEEE 754 half precision ⇄ f32 on the host, for checkpoints stored in F16 (shipped models: half
// the bytes). Loading widens F16 to F32 before anything reaches the GPU, so every kernel stays f32.

import type { DecodedSafetensors, HostTensor } from './safetensors.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 → f16 bits, rounded to nearest even; overflow → ±Inf, NaN stays NaN, tiny → subnormal/±0. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0); // Inf, NaN
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // too large: Inf
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    // subnormal: the implicit 1 joins the mantissa, shifted right by 14 − e places
    const m = man | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rest = man & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // a carry into the exponent is correct
  return sign | h;
}

/** f16 bits → the f32 value (exact: every half is a float). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 0x1f) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

/** An F32 host tensor as F16 (other dtypes unchanged). */
export function toF16(t: HostTensor): HostTensor {
  if (t.dtype !== 'F32') return t;
  const src = t.data as Float32Array;
  const data = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) data[i] = f32ToF16Bits(src[i]);
  return { dtype: 'F16', shape: t.shape, data };
}

/** An F16 host tensor as F32 (other dtypes unchanged). */
export function widenF16(t: HostTensor): HostTensor {
  if (t.dtype !== 'F16') return t;
  const src = t.data as Uint16Array;
  const data = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) data[i] = f16BitsToF32(src[i]);
  return { dtype: 'F32', shape: t.shape, data };
}

/** The decoded file with every F16 tensor widened to F32 (the same object when there is none). */
export function widenDecodedF16(d: DecodedSafetensors): DecodedSafetensors {
  if (!Object.values(d.tensors).some((t) => t.dtype === 'F16')) return d;
  const tensors: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(d.tensors)) Object.defineProperty(tensors, k, { value: widenF16(t), enumerable: true, writable: true, configurable: true });
  return { tensors, metadata: d.metadata };
}
