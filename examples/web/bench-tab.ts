// The "Benchmark" tab: the kernel benchmarks of `npm run bench`, run in this browser on its adapter,
// shown as the same table (one per bench: case, ours, each peer and ours/peer). The TF.js peer runs
// when bench/tfjs.ts can start TF.js's WebGPU backend here; otherwise its columns read "–".

import { round3, type BenchResult } from '../../bench/harness.js';
import { BENCHES, runBenches } from '../../bench/run.js';
import type { Ui } from './sample-tab.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const fmt = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : String(round3(x)));

function cell(tag: 'td' | 'th', text: string): HTMLElement {
  return Object.assign(document.createElement(tag), { textContent: text });
}

/** Appends results to one table per bench, creating each table (and its header) on its first result. */
function tableWriter(box: HTMLElement): (r: BenchResult) => void {
  const bodies = new Map<string, HTMLTableSectionElement>();
  return (r) => {
    const peers = Object.keys(r.vs);
    let body = bodies.get(r.bench);
    if (!body) {
      const table = document.createElement('table');
      table.createCaption().textContent = `${r.bench} — ${r.metric} (higher is better; ours/peer > 1: ours is faster)`;
      table.createTHead().insertRow().append(cell('th', 'case'), cell('th', 'ours'), ...peers.flatMap((p) => [cell('th', p), cell('th', `ours/${p}`)]));
      body = table.createTBody();
      box.append(table);
      bodies.set(r.bench, body);
    }
    const row = document.createElement('tr');
    row.append(cell('td', r.case), cell('td', fmt(r.ours)));
    for (const p of peers) {
      const v = r.vs[p];
      row.append(cell('td', fmt(v)), cell('td', v ? `${fmt(r.ours / v)}×` : '–'));
    }
    body.append(row);
    if (r.notes && Object.keys(r.notes).length) {
      const notes = body.insertRow().insertCell();
      notes.colSpan = 2 + 2 * peers.length;
      notes.className = 'notes';
      notes.textContent = Object.entries(r.notes).map(([k, v]) => `${k}: ${typeof v === 'number' ? fmt(v) : v}`).join('; ');
    }
  };
}

export function setupBenchTab(ui: Ui): void {
  const select = $<HTMLSelectElement>('bench-name');
  select.replaceChildren(new Option('all', 'all'), ...[...BENCHES.keys()].map((n) => new Option(n, n)));
  $('btn-bench').addEventListener('click', () =>
    void ui.run('benchmarks', async () => {
      const names = [select.value];
      const quick = $<HTMLInputElement>('bench-quick').checked;
      const peers = $<HTMLInputElement>('bench-peers').checked;
      const box = $('bench-tables');
      box.replaceChildren();
      const write = tableWriter(box);
      const plan = names[0] === 'all' ? [...BENCHES.values()] : [BENCHES.get(names[0])!];
      const total = plan.reduce((a, b) => a + b.cases.length, 0);
      let done = 0;
      ui.progress(0, `0 of ${total} cases`);
      await runBenches(names, { minSeconds: quick ? 0.2 : 1.0, peers }, (r) => {
        write(r);
        ui.progress(++done / total, `${done} of ${total} cases`);
      });
    }),
  );
}
