// Benchmark plumbing shared by every bench/<kernel>.ts. A bench measures our kernel and its peers
// (a naive/unfused version of ours, TF.js's WebGPU backend) in the same run, on the same adapter,
// and reports throughput (higher is better) as one JSON line per case:
//   {"bench": "matmul", "case": "1024x1024x1024", "metric": "GFLOP/s", "ours": x, "vs": {"naive": y, "tfjs-webgpu": z}}

import { runtime } from '../src/device/runtime.js';

export interface BenchResult {
  bench: string;
  case: string;
  metric: string;
  ours: number;
  vs: Record<string, number | null>;
  /** free-form extras (e.g. memory in bytes, ms per iteration) */
  notes?: Record<string, number | string>;
}

export interface Bench {
  name: string;
  /** case names, as printed */
  cases: string[];
  /** cases too large for a CPU rasteriser (minutes per call there): measured on GPUs, or when named by --case */
  gpuOnly?: string[];
  /** measures one case: ours and every peer */
  run(caseName: string, opts: BenchOptions): Promise<BenchResult>;
}

export interface BenchOptions {
  /** minimum seconds of timed work per measurement (default 1.0; --quick uses 0.2) */
  minSeconds: number;
  /** skip TF.js peers (--no-peers) */
  peers: boolean;
}

/**
 * Seconds per call of `step` (which records GPU work): warm-up, then repeats until `minSeconds`
 * have passed, waiting for the GPU at the end of each batch of calls. Returns the median of
 * 3 batches' per-call times. A call that alone takes 10× minSeconds (e.g. sampling 256 tokens
 * without a key/value cache: minutes) is timed once after the warm-up: its own length averages out
 * the noise that the batches are there for.
 */
export async function timeGpu(step: () => void | Promise<void>, minSeconds: number): Promise<number> {
  return (await timeSideBySide({ one: { step, sync: () => runtime().sync() } }, minSeconds, 3)).one;
}

/** The same timing loop for a peer with its own way of waiting (e.g. TF.js `dataSync`/`data()`). */
export async function timePeer(step: () => Promise<void>, minSeconds: number): Promise<number> {
  return (await timeSideBySide({ one: { step, sync: async () => {} } }, minSeconds, 3)).one;
}

/** One contender of {@link timeSideBySide}: a call that records work, and how to wait for it. */
export interface Contender {
  step: () => void | Promise<void>;
  /** waits for the work recorded so far (ours: `runtime().sync()`; a peer's step may wait itself) */
  sync: () => Promise<void>;
}

/**
 * Seconds per call of each contender, timed in alternating batches: round r runs a batch of every
 * contender in turn, so a drift of the machine's speed (these VMs move by ±20% over seconds) falls
 * on all of them alike and their ratio holds. Each contender's batch is sized to minSeconds/rounds;
 * returns the median of its rounds. A contender whose single call takes 10× minSeconds is timed once.
 */
export async function timeSideBySide(contenders: Record<string, Contender>, minSeconds: number, rounds = 5): Promise<Record<string, number>> {
  const reps: Record<string, number> = {}, per: Record<string, number[]> = {}, once: Record<string, number> = {};
  for (const [name, c] of Object.entries(contenders)) {
    await c.step();
    await c.sync();
    const t0 = performance.now();
    await c.step();
    await c.sync();
    const one = Math.max((performance.now() - t0) / 1000, 1e-5);
    if (one >= 10 * minSeconds) once[name] = one;
    else reps[name] = Math.max(1, Math.round(minSeconds / rounds / one));
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, n] of Object.entries(reps)) {
      const c = contenders[name];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await c.step();
      await c.sync();
      (per[name] ??= []).push((performance.now() - t0) / 1000 / n);
    }
  }
  const out: Record<string, number> = { ...once };
  for (const [name, xs] of Object.entries(per)) out[name] = xs.sort((a, b) => a - b)[xs.length >> 1];
  return out;
}

export function round3(x: number): number {
  return Number(x.toPrecision(3));
}
