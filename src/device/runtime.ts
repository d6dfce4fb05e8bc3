// The runtime: one GPUDevice, its pipeline cache, the buffer pool, and a command encoder that
// batches many dispatches into few submits. Kernels never create GPU objects themselves.
//
// Batching: dispatches are recorded into one open compute pass and submitted on flush (before a
// readback or an upload, or every MAX_PENDING dispatches). Per-dispatch parameters live in a
// uniform arena (256-byte aligned slots of a few 64 KiB buffers) written once per flush, so a
// parameter written for dispatch i is never overwritten before dispatch i runs.

import { acquireDevice, isCpuAdapter, type AdapterReport } from './gpu.js';
import { BufferPool } from './pool.js';

export interface KernelSource {
  /** short name: also the WGSL file's name and the pipeline's label */
  name: string;
  code: string;
  entry?: string;
}

export type Constants = Record<string, number>;

const ARENA_BYTES = 64 * 1024;
const MAX_PENDING = 512;
const UNIFORM_USAGE = 0x40 | 0x08; // UNIFORM | COPY_DST
const MAP_READ_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST

interface ArenaChunk {
  gpu: GPUBuffer;
  cpu: Uint8Array<ArrayBuffer>;
  used: number;
}

export class Runtime {
  readonly pool: BufferPool;
  readonly isCpu: boolean;
  /** Per-dispatch validation (slow): set VQGPU_DEBUG=1 or runtime.debug = true to name the failing op exactly. */
  debug = false;
  /**
   * Per-kernel time profile (VQGPU_PROFILE=1): every dispatch is submitted alone and timed by the
   * completion of its submission; the device runs submissions in order, so the gaps between
   * completions are the kernels' times. Slows everything down; for finding hot spots only.
   */
  profile: Map<string, { calls: number; ms: number }> | null = null;
  private profileLast = 0;
  private pipelines = new Map<string, GPUComputePipeline>();
  private codeIds = new Map<string, number>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private arena: ArenaChunk[] = [];
  private arenaIndex = 0;
  private alignment: number;
  private errors: string[] = [];
  private lostReason: string | null = null;
  private staging = new Map<number, GPUBuffer[]>();
  private lastLabel = '';
  /** names of the kernels with a pipeline, to find the op a device error message quotes */
  private kernelNames = new Set<string>();
  /** dispatches and submits since start (for benches and the no-allocation tests) */
  counters = { dispatches: 0, submits: 0, pipelines: 0 };

  constructor(readonly device: GPUDevice, readonly report: AdapterReport) {
    this.pool = new BufferPool(device, device.limits.maxBufferSize);
    this.isCpu = isCpuAdapter(report);
    this.alignment = device.limits.minUniformBufferOffsetAlignment;
    this.failure = Promise.resolve();
    this.armFailure();
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => this.recordError(ev.error);
    device.lost.then((info) => {
      const last = this.lastLabel ? ` (last op: '${this.lastLabel}')` : '';
      if (info.reason !== 'destroyed') this.lostReason = `WebGPU device lost (${info.reason}): ${info.message}${last}`;
      else this.lostReason = `The WebGPU device was destroyed${last}.`;
      this.fail();
    });
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    if (env?.VQGPU_DEBUG === '1') this.debug = true;
    if (env?.VQGPU_PROFILE === '1') this.profile = new Map();
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /**
   * Keeps an uncaptured device error, naming its op. Errors arrive asynchronously, after later ops
   * were recorded, so the op is read from the message (Dawn and Chrome quote the labels of the bind
   * group and pipeline, which are kernel names); only when none is quoted does the last op stand in.
   * Follow-on errors ("... is invalid due to a previous error") add nothing and are dropped.
   */
  private recordError(error: GPUError): void {
    const message = error.message.trim();
    if (this.errors.length && /invalid due to a previous error/i.test(message)) return;
    let op = '';
    for (const name of this.kernelNames) {
      if ((message.includes(`"${name}"`) || message.includes(`"${name}{`)) && name.length > op.length) op = name;
    }
    const kind = error.constructor?.name && error.constructor.name !== 'Object' ? error.constructor.name : 'GPUError';
    const where = op ? `in op '${op}'` : `after op '${this.lastLabel}' (set VQGPU_DEBUG=1 to name the failing op exactly)`;
    this.errors.push(`${kind} ${where}: ${message}`);
    this.fail();
  }

  /**
   * Settles when the device reports an error or is lost. Waits on the GPU race against it: after
   * a validation error the failed submit's mapAsync/onSubmittedWorkDone may never resolve, and a
   * wait must end with the error rather than hang.
   */
  private failure: Promise<void>;
  private fail: () => void = () => {};

  private async guarded<T>(wait: Promise<T>): Promise<T> {
    const failed = Symbol('failed');
    const r = await Promise.race([wait, this.failure.then(() => failed)]);
    this.checkHealthy();
    if (r === failed) throw new Error('WebGPU: the device reported a failure while waiting for it.');
    return r as T;
  }

  /** Throws the first recorded device error, naming the op that caused it. */
  checkHealthy(): void {
    if (this.lostReason) throw new Error(this.lostReason);
    if (this.errors.length) {
      const msg = this.errors.join('\n');
      this.errors = [];
      this.armFailure(); // reported: later waits race against the next error
      throw new Error(`WebGPU error: ${msg}`);
    }
  }

  private armFailure(): void {
    this.failure = new Promise<void>((resolve) => (this.fail = resolve));
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
        if (err) this.errors.push(`Kernel '${label}' failed to compile: ${err.message}`);
      });
      this.pipelines.set(key, p);
      this.kernelNames.add(kernel.name);
      this.counters.pipelines++;
    }
    return p;
  }

  /** Stages `params` (at most 256 bytes, 4-byte fields) in the uniform arena; returns its binding. */
  private stageUniform(params: ArrayBufferView): GPUBufferBinding {
    const bytes = new Uint8Array(params.buffer, params.byteOffset, params.byteLength);
    const size = Math.max(16, Math.ceil(bytes.length / 16) * 16);
    let chunk = this.arena[this.arenaIndex];
    if (chunk && chunk.used + size > ARENA_BYTES) chunk = this.arena[++this.arenaIndex];
    if (!chunk) {
      chunk = {
        gpu: this.device.createBuffer({ label: 'uniform-arena', size: ARENA_BYTES, usage: UNIFORM_USAGE }),
        cpu: new Uint8Array(ARENA_BYTES),
        used: 0,
      };
      this.arena[this.arenaIndex] = chunk;
    }
    const offset = chunk.used;
    chunk.cpu.fill(0, offset, offset + size);
    chunk.cpu.set(bytes, offset);
    chunk.used = Math.ceil((offset + size) / this.alignment) * this.alignment;
    return { buffer: chunk.gpu, offset, size };
  }

  /**
   * Records one dispatch. Binding 0 is the uniform `params` struct; storage buffers follow at
   * bindings 1..n in the order given.
   */
  dispatch(
    kernel: KernelSource,
    params: ArrayBufferView,
    buffers: GPUBuffer[],
    workgroups: [number, number?, number?],
    constants: Constants = {},
  ): void {
    if (this.lostReason) throw new Error(this.lostReason);
    const [x, y = 1, z = 1] = workgroups;
    const maxWg = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new Error(`Kernel '${kernel.name}': grid ${x}×${y}×${z} exceeds maxComputeWorkgroupsPerDimension (${maxWg}).`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    const pipeline = this.pipeline(kernel, constants);
    this.lastLabel = kernel.name;
    // (debug: the scope opens before the bind group, whose validation fails first on wrong bindings)
    if (this.debug) this.device.pushErrorScope('validation');
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: this.stageUniform(params) }];
    for (let i = 0; i < buffers.length; i++) entries.push({ binding: i + 1, resource: { buffer: buffers[i] } });
    let layout = this.layouts.get(pipeline);
    if (!layout) this.layouts.set(pipeline, (layout = pipeline.getBindGroupLayout(0)));
    const bindGroup = this.device.createBindGroup({ label: kernel.name, layout, entries });
    if (!this.pass) {
      this.encoder = this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(x, y, z);
    this.pending++;
    this.counters.dispatches++;
    if (this.debug) {
      this.flush();
      const name = kernel.name;
      this.device.popErrorScope().then((err) => {
        if (err) this.errors.push(`in op '${name}': ${err.message}`);
      });
    } else if (this.profile) {
      // Keyed by the override constants too (one row per unary op, not one for all of them).
      const spec = Object.entries(constants).filter(([k]) => k !== 'WG').map(([k, v]) => `${k}=${v}`).join(',');
      this.profileDispatch(spec ? `${kernel.name}[${spec}]` : kernel.name);
    } else if (this.pending >= MAX_PENDING) {
      this.flush();
    }
  }

  private profileDispatch(name: string): void {
    this.flush();
    const stats = this.profile!;
    this.device.queue.onSubmittedWorkDone().then(() => {
      const now = performance.now();
      const s = stats.get(name) ?? { calls: 0, ms: 0 };
      s.calls++;
      s.ms += this.profileLast ? now - this.profileLast : 0;
      stats.set(name, s);
      this.profileLast = now;
    });
  }

  /** The profile as rows sorted by time (VQGPU_PROFILE=1). */
  profileReport(): string {
    if (!this.profile) return 'profiling is off (set VQGPU_PROFILE=1)';
    const rows = [...this.profile.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((t, [, s]) => t + s.ms, 0);
    return rows
      .map(([k, s]) => `${k.slice(0, 48).padEnd(48)} ${String(s.calls).padStart(7)} calls ${s.ms.toFixed(0).padStart(8)} ms ${((100 * s.ms) / total).toFixed(1).padStart(5)}%`)
      .join('\n');
  }

  /** Records a buffer-to-buffer copy (ends the open pass; the next dispatch opens a new one). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.pending++;
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    for (let i = 0; i <= this.arenaIndex && i < this.arena.length; i++) {
      const c = this.arena[i];
      if (c.used) this.device.queue.writeBuffer(c.gpu, 0, c.cpu, 0, c.used);
      c.used = 0;
    }
    this.arenaIndex = 0;
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.counters.submits++;
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
      await this.guarded(stage.mapAsync(0x0001 /* GPUMapMode.READ */, 0, copyBytes));
    } catch (e) {
      this.checkHealthy();
      throw e;
    }
    this.stepSubmittedAt = null; // everything submitted is done: no step in flight for throttle
    const out = stage.getMappedRange(0, copyBytes).slice(0, byteLength);
    stage.unmap();
    list.push(stage);
    this.checkHealthy();
    return out;
  }

  /**
   * Keeps at most about one step of work in flight: waits for the work submitted at the previous
   * call, then submits what is recorded. Training loops call it once per step, so the CPU records
   * step t+1 while the device runs step t, and Dawn's queue (and its staging memory) stays bounded;
   * it also lets the event loop turn, which Dawn in Node needs to process its callbacks.
   *
   * The wait sleeps first. While any promise of Dawn's is pending, dawn.node polls its events from
   * a setImmediate loop, which keeps one CPU core busy: on a CPU adapter, a core the rasteriser
   * needs (tokenizer training: 29.5 images/s polling, 35–38 sleeping, on two cores). So throttle
   * sleeps on a timer through ~90% of the previous step's expected device time (a running
   * estimate) and only then asks Dawn for the work-done promise. (A step past MAX_PENDING
   * dispatches is partly submitted while recording; the wait then also covers that part.)
   */
  async throttle(): Promise<void> {
    if (this.stepSubmittedAt !== null) {
      // The device starts the previous step when it has submitted it and finished the one before.
      const start = Math.max(this.stepSubmittedAt, this.stepDoneAt);
      const wake = start + 0.9 * this.stepMs;
      const asleep = wake - performance.now();
      // Timers wake a millisecond or two late: short steps (sampling a token) poll instead.
      if (asleep >= 8) await new Promise((r) => setTimeout(r, asleep - 1));
      const asked = performance.now();
      await this.guarded(this.device.queue.onSubmittedWorkDone());
      const done = performance.now();
      // Done (almost) at once after waking: the step took less than the estimate (and `done − start`
      // counts the oversleep), so the estimate shrinks; otherwise the step took done − start.
      const overslept = done - asked < Math.max(2, 0.02 * this.stepMs);
      this.stepMs = overslept ? 0.8 * this.stepMs : 0.7 * this.stepMs + 0.3 * (done - start);
      this.stepDoneAt = done;
    }
    this.flush();
    this.stepSubmittedAt = performance.now();
    this.checkHealthy();
  }
  /** when throttle last submitted (null: nothing in flight since the last full wait) */
  private stepSubmittedAt: number | null = null;
  private stepDoneAt = 0;
  /** running estimate of one step's device time, in ms (throttle) */
  private stepMs = 0;

  /** Waits until all submitted work is done (benchmarks). */
  async sync(): Promise<void> {
    this.flush();
    await this.guarded(this.device.queue.onSubmittedWorkDone());
    this.stepSubmittedAt = null;
  }

  destroy(): void {
    this.flush();
    this.pool.trim();
    this.device.destroy();
  }
}

let current: Runtime | null = null;
let pendingInit: Promise<Runtime> | null = null;

/** Creates (once) and returns the process-wide runtime. */
export function init(): Promise<Runtime> {
  if (current) return Promise.resolve(current);
  if (!pendingInit) {
    pendingInit = acquireDevice().then(({ device, report }) => (current = new Runtime(device, report)));
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
