// The runtime: one GPUDevice, its pipeline cache, the buffer pool, and a command encoder that
// batches many dispatches into few submits. Kernels never create GPU objects themselves.
//
// Batching: dispatches are recorded into one open compute pass and submitted on flush (before a
// readback or an upload, or every MAX_PENDING dispatches). Per-dispatch parameters live in a
// uniform arena written once per flush (uniform-arena.ts).

import { acquireDevice, isCpuAdapter, type AdapterReport } from './gpu.js';
import { DeviceHealth } from './device-health.js';
import { BufferPool } from './pool.js';
import { KernelProfiler } from './profiler.js';
import { StepPacer } from './step-pacer.js';
import { TexturePool } from './texture-pool.js';
import { UniformArena } from './uniform-arena.js';
import { WaitEstimate } from './wait-estimate.js';

export interface KernelSource {
  /** short name: also the WGSL file's name and the pipeline's label */
  name: string;
  code: string;
  entry?: string;
}

export type Constants = Record<string, number>;

const MAX_PENDING = 512;
const MAP_READ_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST

export class Runtime {
  readonly pool: BufferPool;
  /** rgba32float operand textures (ops/matmul-texture.ts) */
  readonly textures: TexturePool;
  readonly isCpu: boolean;
  /** Per-dispatch validation (slow): set VQGPU_DEBUG=1 or runtime.debug = true to name the failing op exactly. */
  debug = false;
  /** Per-kernel device-time profile (VQGPU_PROFILE=1; profiler.ts); slows everything down. */
  profiler: KernelProfiler | null = null;
  private pipelines = new Map<string, GPUComputePipeline>();
  private codeIds = new Map<string, number>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private readonly uniforms: UniformArena;
  private staging = new Map<number, GPUBuffer[]>();
  private readonly health: DeviceHealth;
  /** dispatches and submits since start (for benches and the no-allocation tests) */
  counters = { dispatches: 0, submits: 0, pipelines: 0 };
  /**
   * A cap below the device's maxStorageBufferBindingSize (bytes; null: none), so that the paths that
   * keep tensors within the binding limit run on small shapes in tests (VQGPU_MAX_BINDING=bytes).
   */
  bindingCap: number | null = null;
  /** the device's maxStorageBufferBindingSize, read once (every dispatch checks its bindings against it) */
  private readonly bindingLimit: number;

  /** The most bytes one storage binding may hold: the device's limit, or the cap where lower. */
  get maxBindingBytes(): number {
    return this.bindingCap === null ? this.bindingLimit : Math.min(this.bindingLimit, this.bindingCap);
  }

  constructor(readonly device: GPUDevice, readonly report: AdapterReport) {
    this.pool = new BufferPool(device, device.limits.maxBufferSize);
    this.textures = new TexturePool(device);
    this.bindingLimit = device.limits.maxStorageBufferBindingSize;
    this.isCpu = isCpuAdapter(report);
    this.waits = new WaitEstimate(report.host === 'node' && this.isCpu);
    this.pacer = new StepPacer({
      device,
      copy: (src, so, dst, d, n) => this.copy(src, so, dst, d, n),
      flush: () => this.flush(),
      guarded: (wait) => this.health.guarded(wait),
    });
    this.uniforms = new UniformArena(device, device.limits.minUniformBufferOffsetAlignment);
    this.health = new DeviceHealth(device);
    if (envFlag('VQGPU_DEBUG')) this.debug = true;
    if (envFlag('VQGPU_PROFILE')) this.profiler = new KernelProfiler(device);
    const cap = Number((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.VQGPU_MAX_BINDING);
    if (cap > 0) this.bindingCap = cap;
  }

  /** Why the device was lost (null while it works): after a loss every call fails; a fresh `init()` after `shutdown()` works again. */
  get lost(): string | null {
    return this.health.lost;
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Throws the first recorded device error, naming the op that caused it. */
  checkHealthy(): void {
    this.health.check();
  }

  /** each pipeline's bind group layout (getBindGroupLayout makes a new wrapper per call) */
  private layouts = new Map<GPUComputePipeline, GPUBindGroupLayout>();

  pipeline(kernel: KernelSource, constants: Constants = {}): GPUComputePipeline {
    let id = this.codeIds.get(kernel.code);
    if (id === undefined) this.codeIds.set(kernel.code, (id = this.codeIds.size));
    const key = `${id}|${kernel.entry ?? 'main'}|${JSON.stringify(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const label = `${kernel.name}${Object.keys(constants).length ? JSON.stringify(constants) : ''}`;
      this.device.pushErrorScope('validation');
      const module = this.device.createShaderModule({ label: kernel.name, code: kernel.code });
      p = this.device.createComputePipeline({
        label,
        layout: 'auto',
        compute: { module, entryPoint: kernel.entry ?? 'main', constants },
      });
      this.device.popErrorScope().then((err) => {
        if (err) this.health.note(`Kernel '${label}' failed to compile: ${err.message}`);
      });
      this.pipelines.set(key, p);
      this.health.kernelNames.add(kernel.name);
      this.counters.pipelines++;
    }
    return p;
  }

  /**
   * Records one dispatch. Binding 0 is the uniform `params` struct; storage buffers (or texture
   * views) follow at bindings 1..n in the order given (null: a binding number the kernel's entry
   * point does not use, e.g. the subgroup codebook search's norms, read from its transposed codebook).
   */
  dispatch(
    kernel: KernelSource,
    params: ArrayBufferView,
    buffers: ({ buffer: GPUBuffer; offset: number; size: number } | GPUTextureView | null)[],
    workgroups: [number, number?, number?],
    constants: Constants = {},
  ): void {
    if (this.health.lost) throw new Error(this.health.lost);
    const [x, y = 1, z = 1] = workgroups;
    const maxWg = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new Error(`Kernel '${kernel.name}': grid ${x}×${y}×${z} exceeds maxComputeWorkgroupsPerDimension (${maxWg}).`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    const maxBind = this.maxBindingBytes;
    for (const b of buffers) {
      if (b && 'buffer' in b && b.size > maxBind) {
        throw new Error(`Kernel '${kernel.name}' would bind a buffer of ${b.size} bytes, over ${this.bindingCap === null ? "this device's maxStorageBufferBindingSize" : 'the binding cap'} (${maxBind} bytes): its tensors are too large for the device; use a smaller batch or image size (a tokenizer: --patch 2 runs its convolutions at a quarter of the pixels).`);
      }
    }
    const pipeline = this.pipeline(kernel, constants);
    this.health.lastLabel = kernel.name;
    // (debug: the scope opens before the bind group, whose validation fails first on wrong bindings)
    if (this.debug) this.device.pushErrorScope('validation');
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: this.uniforms.stage(params) }];
    buffers.forEach((b, i) => { if (b) entries.push({ binding: i + 1, resource: b }); });
    let layout = this.layouts.get(pipeline);
    if (!layout) this.layouts.set(pipeline, (layout = pipeline.getBindGroupLayout(0)));
    const bindGroup = this.device.createBindGroup({ label: kernel.name, layout, entries });
    const timed = this.profiler?.timestamps ? this.profileName(kernel, constants) : null;
    if (timed !== null) {
      // Profiling by timestamps: this dispatch alone in a pass that writes them.
      this.pass?.end();
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass(this.profiler!.passFor(timed));
    } else if (!this.pass) {
      // (an open encoder without a pass holds transfers recorded since the last dispatch: keep them)
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(x, y, z);
    this.pending++;
    this.counters.dispatches++;
    this.waits.dispatched(x * y * z);
    if (this.debug) {
      this.flush();
      const name = kernel.name;
      this.device.popErrorScope().then((err) => {
        if (err) this.health.note(`in op '${name}': ${err.message}`);
      });
    } else if (timed !== null) {
      this.pass.end();
      this.pass = null;
      if (this.profiler!.full || this.pending >= MAX_PENDING) this.flush();
    } else if (this.profiler) {
      this.flush();
      this.profiler.submitted(this.profileName(kernel, constants));
    } else if (this.pending >= MAX_PENDING) {
      this.flush();
    }
  }

  /** A profile row's name: the kernel, its entry point and override constants (one row per unary op). */
  private profileName(kernel: KernelSource, constants: Constants): string {
    const spec = Object.entries(constants).filter(([k]) => k !== 'WG').map(([k, v]) => `${k}=${v}`).join(',');
    const name = kernel.entry && kernel.entry !== 'main' ? `${kernel.name}.${kernel.entry}` : kernel.name;
    return spec ? `${name}[${spec}]` : name;
  }

  /** The profile so far (VQGPU_PROFILE=1), after the submitted work and its timestamps are in. */
  async profileReport(): Promise<string> {
    if (!this.profiler) return 'profiling is off (set VQGPU_PROFILE=1)';
    await this.sync();
    await this.profiler.drain();
    return this.profiler.report();
  }

  /** Records a buffer-to-buffer copy (ends the open pass; the next dispatch opens a new one). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.transferEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /**
   * Records a copy of `layers` items of `height` rows of `bytesPerRow` bytes (a multiple of 256)
   * from `src` at `srcOffset` (a multiple of 16) into an rgba32float texture's texels from (0, 0, 0).
   */
  copyToTexture(src: GPUBuffer, srcOffset: number, bytesPerRow: number, dst: GPUTexture, width: number, height: number, layers: number): void {
    this.transferEncoder().copyBufferToTexture(
      { buffer: src, offset: srcOffset, bytesPerRow, rowsPerImage: height },
      { texture: dst },
      [width, height, layers],
    );
  }

  /** Records zeroing `bytes` (a multiple of 4) of `buffer` from `offsetBytes` (ends the open pass). */
  clear(buffer: GPUBuffer, offsetBytes: number, bytes: number): void {
    this.transferEncoder().clearBuffer(buffer, offsetBytes, bytes);
  }

  /** The encoder, outside any compute pass, for one transfer command. */
  private transferEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.pending++;
    return this.encoder;
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.uniforms.upload();
    if (this.encoder) {
      const resolved = this.profiler?.resolve(this.encoder);
      this.device.queue.submit([this.encoder.finish()]);
      resolved?.();
      this.encoder = null;
      this.counters.submits++;
      this.waits.submitted();
    }
    this.pending = 0;
  }

  /** Uploads host data into a GPU buffer (flushes first: the buffer may be read by recorded work). */
  write(buffer: GPUBuffer, offsetBytes: number, data: ArrayBufferView): void {
    this.flush();
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    const padded = bytes.length % 4 ? new Uint8Array(Math.ceil(bytes.length / 4) * 4) : bytes;
    if (padded !== bytes) padded.set(bytes);
    this.device.queue.writeBuffer(buffer, offsetBytes, padded);
  }

  /** Reads bytes back to the host. The only place that waits for the GPU. */
  async read(buffer: GPUBuffer, offsetBytes: number, byteLength: number): Promise<ArrayBuffer> {
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(4, byteLength))));
    const list = this.staging.get(size) ?? [];
    this.staging.set(size, list);
    const stage = list.pop() ?? this.device.createBuffer({ label: 'readback', size, usage: MAP_READ_USAGE });
    const copyBytes = Math.ceil(byteLength / 4) * 4;
    this.copy(buffer, offsetBytes, stage, 0, copyBytes);
    this.flush();
    try {
      const w = await this.waits.sleep();
      await this.health.guarded(stage.mapAsync(0x0001 /* GPUMapMode.READ */, 0, copyBytes));
      this.waits.done(w);
    } catch (e) {
      this.checkHealthy();
      throw e;
    }
    this.pacer.idle(); // everything submitted is done: no step in flight
    const out = stage.getMappedRange(0, copyBytes).slice(0, byteLength);
    stage.unmap();
    list.push(stage);
    this.checkHealthy();
    return out;
  }

  /**
   * Paces a loop that records one step per call (training, sampling): submits the recorded step,
   * then waits (asleep, mostly) until the step before it is done, so at most two steps are queued
   * and the event loop turns, which Dawn in Node needs for its callbacks. See step-pacer.ts.
   */
  async throttle(): Promise<void> {
    await this.pacer.step();
    // In flight now: the step just submitted (a read right after it waits for that step alone).
    this.waits.restart();
    this.checkHealthy();
  }
  private readonly pacer: StepPacer;
  /** sleeps through read() and sync() waits (see wait-estimate.ts) */
  private readonly waits: WaitEstimate;

  /** Waits until all submitted work is done (benchmarks). */
  async sync(): Promise<void> {
    this.flush();
    const w = await this.waits.sleep();
    await this.health.guarded(this.device.queue.onSubmittedWorkDone());
    this.waits.done(w);
    this.pacer.idle();
  }

  destroy(): void {
    this.flush();
    this.pool.trim();
    this.textures.trim();
    this.device.destroy();
  }
}

let current: Runtime | null = null;
let pendingInit: Promise<Runtime> | null = null;

/** Creates (once) and returns the process-wide runtime. */
export function init(): Promise<Runtime> {
  if (current) return Promise.resolve(current);
  if (!pendingInit) {
    // `subgroups` where the adapter has it: the subgroup matmul for CPU adapters (ops/matmul.ts).
    const features: GPUFeatureName[] = ['subgroups' as GPUFeatureName, ...(envFlag('VQGPU_PROFILE') ? (['timestamp-query'] as const) : [])];
    pendingInit = acquireDevice(features).then(({ device, report }) => (current = new Runtime(device, report)));
    pendingInit.catch(() => (pendingInit = null));
  }
  return pendingInit;
}

export function runtime(): Runtime {
  if (!current) throw new Error('vqgpu: call `await init()` before creating tensors.');
  return current;
}

/** Destroys the runtime's device (lets a Node process exit). */
export function shutdown(): void {
  current?.destroy();
  current = null;
  pendingInit = null;
}

/** Whether the environment variable `name` is '1' (Node; always false in a browser). */
function envFlag(name: string): boolean {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name] === '1';
}
