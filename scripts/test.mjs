#!/usr/bin/env node
// `npm test`: runs the `node` test project (Dawn) and then the `chrome` project (headless Chromium),
// and ends with one line `N passed, N failed[, N skipped]` summed over both.
// Extra arguments go to both vitest runs (e.g. `npm test -- kernels-test/matmul`).
// The chrome project is skipped (with a warning) only when /usr/bin/chromium is missing outside CI.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const chromium = process.env.VQGPU_CHROMIUM ?? '/usr/bin/chromium';
const ci = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const extra = process.argv.slice(2);

if (!existsSync(vitest)) {
  console.error('[test] vitest is not installed: run `npm run setup` (or `npm ci`) first.');
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'vqgpu-test-'));
const total = { passed: 0, failed: 0, skipped: 0 };
let exitCode = 0;
const timings = [];

function runProject(name) {
  const out = join(tmp, `${name}.json`);
  const args = [vitest, 'run', '--project', name, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`];
  if (extra.length) args.push('--passWithNoTests', ...extra);
  console.log(`\n[test] ── vitest project '${name}' ──`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
  const secs = (Date.now() - t0) / 1000;
  const code = r.status ?? 1;
  let passed = 0, failed = 0, skipped = 0;
  if (existsSync(out)) {
    const j = JSON.parse(readFileSync(out, 'utf8'));
    passed = j.numPassedTests ?? 0;
    failed = j.numFailedTests ?? 0;
    skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
    // A file that fails to load (import error, syntax error) has no failed test: count it once.
    for (const f of j.testResults ?? []) {
      const anyFailed = (f.assertionResults ?? []).some((a) => a.status === 'failed');
      if (f.status === 'failed' && !anyFailed) failed++;
    }
  } else {
    console.error(`[test] vitest project '${name}' produced no results (exit code ${code}).`);
  }
  if (code !== 0 && failed === 0) failed = 1; // vitest failed without a failing test: still a failure
  total.passed += passed;
  total.failed += failed;
  total.skipped += skipped;
  if (code !== 0) exitCode = code;
  timings.push(`${name}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''} in ${secs.toFixed(1)} s`);
}

runProject('node');
if (existsSync(chromium) || ci) {
  runProject('chrome');
} else {
  const bar = '!'.repeat(78);
  console.warn(
    `\n${bar}\n[test] WARNING: ${chromium} is missing: the 'chrome' test project was NOT run.\n` +
      `[test] Install it with \`npm run setup\` as root, or \`sudo apt-get install -y chromium\`.\n${bar}`,
  );
  timings.push('chrome: NOT RUN (no chromium)');
}
rmSync(tmp, { recursive: true, force: true });

console.log(`\n[test] ${timings.join('; ')}`);
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(exitCode);
