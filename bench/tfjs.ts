// TF.js on its WebGPU backend: the framework peer of every bench. In a browser it uses
// navigator.gpu; in Node it gets a GPU from Dawn (the `webgpu` package, as src/device/gpu.ts does)
// and installs it as `navigator.gpu`, which is where @tensorflow/tfjs-backend-webgpu looks.
//
// Call after `await init()`: src/device/gpu.ts takes an existing `navigator.gpu` to mean "browser",
// so initialising our runtime first keeps its adapter report honest.

import { WaitEstimate } from '../src/device/wait-estimate.js';

type TF = typeof import('@tensorflow/tfjs');

let loading: Promise<TF | null> | null = null;

/** TF.js with the 'webgpu' backend ready, or null (after a one-line warning) where it cannot run. */
export function loadTf(): Promise<TF | null> {
  loading ??= load().catch((e: unknown) => {
    console.warn(`bench: TF.js WebGPU peer unavailable (${(e as Error)?.message ?? e}); its columns are skipped.`);
    return null;
  });
  return loading;
}

const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

async function load(): Promise<TF> {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator?.gpu) {
    if (!isNode) throw new Error('navigator.gpu is missing');
    // A variable keeps browser bundlers from resolving the Node-only package.
    const name = 'webgpu';
    const { create, globals } = (await import(/* @vite-ignore */ name)) as {
      create: (flags: string[]) => GPU;
      globals: Record<string, unknown>;
    };
    Object.assign(globalThis, globals);
    const gpu = create([]);
    if (g.navigator) {
      // Keep an existing navigator (Node ≥ 21 has one); its `gpu` may be a getter-less own property.
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, enumerable: true });
    } else {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
  }
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed");
  await tf.ready();
  if (isNode) sleepThroughWaits((tf.backend() as unknown as { device: GPUDevice }).device);
  return tf;
}

/**
 * Gives TF.js's waits the policy ours have (src/device/wait-estimate.ts): in Node, Dawn polls from
 * a loop that takes a CPU core while a wait is pending, and on a CPU adapter that core is half the
 * machine. Our runtime sleeps through the expected device time before it asks; so that the benches
 * compare kernels and not waiting policies, TF.js's readbacks (mapAsync of its staging buffers)
 * sleep the same way.
 */
function sleepThroughWaits(device: GPUDevice): void {
  const waits = new WaitEstimate(true);
  const queue = device.queue;
  const submit = queue.submit.bind(queue);
  queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
    submit(buffers);
    waits.submitted();
  };
  // Its dispatches, counted as our runtime counts its own (the key of a wait's estimate).
  const createCommandEncoder = device.createCommandEncoder.bind(device);
  device.createCommandEncoder = (desc?: GPUCommandEncoderDescriptor) => {
    const encoder = createCommandEncoder(desc);
    const beginComputePass = encoder.beginComputePass.bind(encoder);
    encoder.beginComputePass = (pd?: GPUComputePassDescriptor) => {
      const pass = beginComputePass(pd);
      const dispatch = pass.dispatchWorkgroups.bind(pass);
      pass.dispatchWorkgroups = (x: number, y = 1, z = 1) => {
        dispatch(x, y, z);
        waits.dispatched(x * y * z);
      };
      return pass;
    };
    return encoder;
  };
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (desc: GPUBufferDescriptor) => {
    const buffer = createBuffer(desc);
    if (desc.usage & 0x0001 /* MAP_READ */) {
      const mapAsync = buffer.mapAsync.bind(buffer);
      buffer.mapAsync = async (...args: Parameters<GPUBuffer['mapAsync']>) => {
        const w = await waits.sleep();
        await mapAsync(...args);
        waits.done(w);
      };
    }
    return buffer;
  };
}
