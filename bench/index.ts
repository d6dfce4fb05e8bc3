// The bench CLI (Node): `npm run bench -- <name...|all> [--json] [--quick] [--no-peers] [--case NAME]`.
//   --json      one JSON line per case on stdout, nothing else there (logs go to stderr)
//   --quick     shorter timing windows (0.2 s instead of 1 s per measurement)
//   --no-peers  ours only (skips TF.js; a bench's naive peer is cheap and still runs)
//   --case NAME only this case (repeatable)
// Without --json: the adapter, then a table per bench with ours, each peer and ours/peer.

import { init, runtime } from '../src/device/runtime.js';
import { round3, type BenchResult } from './harness.js';
import { BENCHES, planBenches, runBenches, UsageError, type RunOptions } from './run.js';

const USAGE = `usage: npm run bench -- <name...|all> [--json] [--quick] [--no-peers] [--case NAME]
benches: ${[...BENCHES.keys()].join(', ')}`;

function parseArgs(argv: string[]): { names: string[]; json: boolean; opts: RunOptions } {
  const names: string[] = [];
  const opts: RunOptions = { minSeconds: 1.0, peers: true, cases: [] };
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--quick') opts.minSeconds = 0.2;
    else if (a === '--no-peers') opts.peers = false;
    else if (a === '--case') {
      if (i + 1 >= argv.length) throw new UsageError('--case needs a case name.');
      opts.cases!.push(argv[++i]);
    } else if (a.startsWith('--case=')) opts.cases!.push(a.slice('--case='.length));
    else if (a === '--help' || a === '-h') throw new UsageError('');
    else if (a.startsWith('-')) throw new UsageError(`Unknown option '${a}'.`);
    else names.push(a);
  }
  if (names.length === 0) names.push('all');
  return { names, json, opts };
}

const fmtNum = (x: number | null): string => (x === null || !Number.isFinite(x) ? '—' : String(round3(x)));

/** Prints results as rows of one aligned table per bench (a header whenever the bench changes). */
function tablePrinter(): (r: BenchResult) => void {
  let current = '';
  const W = 12;
  return (r) => {
    const peers = Object.keys(r.vs);
    const caseW = Math.max(18, r.case.length + 2);
    if (r.bench !== current) {
      current = r.bench;
      console.log(`\n${r.bench} — ${r.metric} (higher is better; ours/peer > 1 means ours is faster)`);
      const head = ['case'.padEnd(caseW), 'ours'.padStart(W)];
      for (const p of peers) head.push(p.padStart(Math.max(W, p.length + 2)), `ours/${p}`.padStart(Math.max(W, p.length + 7)));
      console.log(head.join(''));
    }
    const row = [r.case.padEnd(caseW), fmtNum(r.ours).padStart(W)];
    for (const p of peers) {
      const v = r.vs[p];
      const ratio = v ? `${fmtNum(r.ours / v)}×` : '—';
      row.push(fmtNum(v).padStart(Math.max(W, p.length + 2)), ratio.padStart(Math.max(W, p.length + 7)));
    }
    console.log(row.join(''));
    if (r.notes && Object.keys(r.notes).length) {
      const notes = Object.entries(r.notes).map(([k, v]) => `${k}: ${typeof v === 'number' ? fmtNum(v) : v}`);
      console.log(`${''.padEnd(caseW)}  ${notes.join('; ')}`);
    }
  };
}

function jsonLine(r: BenchResult): string {
  const vs: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(r.vs)) vs[k] = v === null ? null : round3(v);
  const line: Record<string, unknown> = { bench: r.bench, case: r.case, metric: r.metric, ours: round3(r.ours), vs };
  if (r.notes) line.notes = Object.fromEntries(Object.entries(r.notes).map(([k, v]) => [k, typeof v === 'number' ? round3(v) : v]));
  return JSON.stringify(line);
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
    planBenches(args.names, args.opts.cases); // bad names fail before the device starts
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(e.message ? `${e.message}\n${USAGE}` : USAGE);
    return 2;
  }
  const { names, json, opts } = args;
  if (json) {
    // stdout carries only the JSON lines: route stray library logging (TF.js) to stderr.
    console.log = console.error;
    console.info = console.error;
  }
  await init();
  const rep = runtime().report;
  const adapter = `${[rep.vendor, rep.architecture, rep.description].filter(Boolean).join(' / ') || 'unknown adapter'}` +
    ` (${rep.host}${runtime().isCpu ? ', CPU rasteriser' : ''})`;
  if (json) console.error(`bench: adapter ${adapter}`);
  else console.log(`adapter: ${adapter}\ntiming: ${opts.minSeconds} s per measurement, median of 3 batches${opts.peers ? '' : ', no TF.js peers'}`);
  const print = json ? (r: BenchResult) => process.stdout.write(`${jsonLine(r)}\n`) : tablePrinter();
  await runBenches(names, opts, print);
  return 0;
}

main().then(
  (code) => process.exit(code), // Dawn keeps the process alive: exit explicitly.
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
