// Runs benches by name and hands each case's result to a callback. Browser-safe (no Node APIs):
// the Node CLI (bench/index.ts) and the web page both drive benches through here.

import { runtime } from '../src/device/runtime.js';
import type { Bench, BenchOptions, BenchResult } from './harness.js';
import * as registry from './registry.js';

export interface RunOptions extends BenchOptions {
  /** run only these case names (default: every case of each bench) */
  cases?: string[];
}

/** A bad bench or case name: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {}

/** Every registered bench, by its name, in registration order. */
export const BENCHES: ReadonlyMap<string, Bench> = new Map(Object.values(registry).map((b: Bench) => [b.name, b]));

/** Resolves names ('all' expands to every bench) to benches, or throws a UsageError listing the valid ones. */
export function selectBenches(names: readonly string[]): Bench[] {
  const valid = [...BENCHES.keys()];
  if (names.length === 0 || names.includes('all')) return [...BENCHES.values()];
  return names.map((n) => {
    const b = BENCHES.get(n);
    if (!b) throw new UsageError(`Unknown bench '${n}'. Valid names: ${valid.join(', ')}, all.`);
    return b;
  });
}

/** The benches and cases a run would measure; throws a UsageError for unknown bench or case names. */
export function planBenches(names: readonly string[], cases: readonly string[] = []): { bench: Bench; cases: string[] }[] {
  const benches = selectBenches(names);
  const plan = benches.map((b) => ({ bench: b, cases: cases.length ? b.cases.filter((c) => cases.includes(c)) : b.cases }));
  for (const c of cases) {
    if (!plan.some((p) => p.cases.includes(c))) {
      const known = benches.map((b) => `${b.name}: ${b.cases.join(', ')}`).join('; ');
      throw new UsageError(`Unknown case '${c}'. Cases: ${known}.`);
    }
  }
  return plan;
}

/**
 * Runs the selected benches' cases one after another (each measures ours and its peers on the
 * current runtime; call `init()` first) and reports each result as soon as it is measured.
 */
export async function runBenches(
  names: readonly string[],
  opts: RunOptions,
  onResult: (r: BenchResult) => void,
): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const named = new Set(opts.cases ?? []);
  for (const { bench, cases } of planBenches(names, opts.cases)) {
    for (const c of cases) {
      if (runtime().isCpu && bench.gpuOnly?.includes(c) && !named.has(c)) continue;
      const r = await bench.run(c, opts);
      results.push(r);
      onResult(r);
    }
  }
  return results;
}
