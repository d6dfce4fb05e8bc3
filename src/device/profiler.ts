// Per-kernel device-time profile (VQGPU_PROFILE=1), one row per kernel, entry point and override
// constants. Two ways to time, chosen by the device:
//   - timestamps (the device has 'timestamp-query'): every dispatch runs in its own compute pass
//     whose beginning and end write GPU timestamps; the pairs are resolved in the submit that
//     carries them and read back later. Device time only: the host's work between dispatches
//     (recording, data loading) is not counted, and the batching of submits is kept.
//   - completions (otherwise): every dispatch is submitted alone and charged the gap between its
//     completion and the previous one; that gap also holds whatever the host did in between, so
//     the first kernel after host work (a step's first copy) looks slower than it is.
// Either way the extra passes or submits slow the run down: for finding hot spots only.

/** Timestamp pairs per query set (one pair per dispatch); a full set is resolved at the next submit. */
const PAIRS = 2048;
const QUERY_RESOLVE = 0x200; // GPUBufferUsage.QUERY_RESOLVE
const COPY_SRC = 0x04;
const MAP_READ_COPY_DST = 0x01 | 0x08;

export interface ProfileRow {
  calls: number;
  ms: number;
}

export class KernelProfiler {
  readonly stats = new Map<string, ProfileRow>();
  /** whether dispatches are timed by GPU timestamps (else by completions) */
  readonly timestamps: boolean;
  private querySet: GPUQuerySet | null = null;
  private names: string[] = [];
  private reads: Promise<void>[] = [];
  private lastDone = 0;

  constructor(private readonly device: GPUDevice) {
    this.timestamps = device.features.has('timestamp-query');
    if (this.timestamps) this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * PAIRS });
  }

  /** Timestamps: the descriptor of the pass that holds the next dispatch alone. */
  passFor(name: string): GPUComputePassDescriptor {
    const k = this.names.length;
    this.names.push(name);
    return { timestampWrites: { querySet: this.querySet!, beginningOfPassWriteIndex: 2 * k, endOfPassWriteIndex: 2 * k + 1 } };
  }

  /** Timestamps: every pair of the query set is taken (the runtime submits, which resolves them). */
  get full(): boolean {
    return this.names.length >= PAIRS;
  }

  /**
   * Timestamps: records the resolve of this submit's pairs into `encoder`; returns what to run once
   * the encoder is submitted (maps the copy and adds each pass's end − beginning to its row).
   */
  resolve(encoder: GPUCommandEncoder): (() => void) | null {
    const names = this.names;
    if (!names.length) return null;
    this.names = [];
    const bytes = 16 * names.length; // two u64 per dispatch
    const resolved = this.device.createBuffer({ size: bytes, usage: QUERY_RESOLVE | COPY_SRC });
    const read = this.device.createBuffer({ size: bytes, usage: MAP_READ_COPY_DST });
    encoder.resolveQuerySet(this.querySet!, 0, 2 * names.length, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, read, 0, bytes);
    return () => {
      this.reads.push(read.mapAsync(0x0001).then(() => {
        const t = new BigUint64Array(read.getMappedRange());
        names.forEach((name, k) => this.add(name, Number(t[2 * k + 1] - t[2 * k]) / 1e6));
        read.unmap();
        read.destroy();
        resolved.destroy();
      }));
    };
  }

  /** Completions: charges `name` (just submitted alone) the time since the previous completion. */
  submitted(name: string): void {
    this.device.queue.onSubmittedWorkDone().then(() => {
      const now = performance.now();
      this.add(name, this.lastDone ? now - this.lastDone : 0);
      this.lastDone = now;
    });
  }

  /** Waits for the timestamp read-backs already submitted. */
  async drain(): Promise<void> {
    const reads = this.reads;
    this.reads = [];
    await Promise.all(reads);
  }

  /** The rows sorted by time, with the timing method in the heading. */
  report(): string {
    const rows = [...this.stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((t, [, s]) => t + s.ms, 0);
    const how = this.timestamps ? 'GPU timestamps per dispatch' : 'completion gaps (no timestamp-query: host time included)';
    return [
      `kernel time profile (${how}; ${total.toFixed(0)} ms in all):`,
      ...rows.map(([k, s]) => `${k.slice(0, 56).padEnd(56)} ${String(s.calls).padStart(7)} calls ${s.ms.toFixed(0).padStart(8)} ms ${((100 * s.ms) / total).toFixed(1).padStart(5)}%`),
    ].join('\n');
  }

  private add(name: string, ms: number): void {
    const s = this.stats.get(name) ?? { calls: 0, ms: 0 };
    s.calls++;
    s.ms += ms;
    this.stats.set(name, s);
  }
}
