// Device faults are reported, not hung on: a validation error (a kernel dispatched with the wrong
// bindings) surfaces at the next readback as an Error naming the op, the runtime stays usable after
// it, and a lost device makes every later call fail at once with a clear message.
// (Node only: it destroys the process-wide device.)

import { afterAll, describe, expect, it } from 'vitest';
import { init, runtime, shutdown } from '../src/device/runtime.js';
import { kernel } from '../src/ops/launch.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import scaleSrc from '../shaders/optim_scale.wgsl';

/** Rejects if `p` has not settled within `ms`: a hang is a failure, not a test timeout. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} hung for ${ms} ms`)), ms)));
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

const SCALE = kernel('optim_scale', scaleSrc); // bindings: 1 = factor [1], 2 = x [n]

afterAll(() => shutdown());

/** A tensor's storage as the runtime binds it. */
const bind = (t: Tensor) => ({ buffer: t.buffer, offset: t.storage.byteOffset, size: t.storage.bytes });

describe('device errors', () => {
  it('a dispatch with a missing binding fails at the next readback, naming the op', async () => {
    await init();
    const x = tensor([1, 2, 3]);
    // optim_scale needs two storage buffers; give it one.
    runtime().dispatch(SCALE, new Uint32Array([3, 0, 0, 0]), [bind(x)], [1], { WG: 64 });
    const err = await within(x.toArray().then(() => null, (e: Error) => e), 20_000, 'the readback after a validation error');
    expect(err, 'the readback must reject').toBeInstanceOf(Error);
    expect(err!.message).toMatch(/^WebGPU error: GPUValidationError in op 'optim_scale': Number of entries/);
    // only the cause, not Dawn's cascade of follow-on errors
    expect(err!.message).not.toMatch(/invalid due to a previous error/);
    // The error was reported once; the runtime keeps working.
    expect(Array.from((await within(x.toArray(), 20_000, 'a later readback')) as Float32Array)).toEqual([1, 2, 3]);
    x.dispose();
  });

  it('a lost device fails every later call at once, with the reason and the last op', async () => {
    await init();
    const x = tensor([1, 2]);
    runtime().dispatch(SCALE, new Uint32Array([2, 0, 0, 0]), [bind(x), bind(x)], [1], { WG: 64 });
    runtime().device.destroy();
    const err = await within(x.toArray().then(() => null, (e: Error) => e), 20_000, 'a readback on a lost device');
    expect(err).toBeInstanceOf(Error);
    // Give the `lost` promise its turn, then every call must throw synchronously.
    await new Promise((r) => setTimeout(r, 50));
    expect(() => runtime().dispatch(SCALE, new Uint32Array([2, 0, 0, 0]), [bind(x), bind(x)], [1], { WG: 64 })).toThrow(/destroyed.*optim_scale|lost.*optim_scale/);
    shutdown();
    // A fresh runtime works again.
    await init();
    const y = tensor([4, 5]);
    expect(Array.from((await y.toArray()) as Float32Array)).toEqual([4, 5]);
    y.dispose();
  });
});
