// Helpers for the CLI-level reliability tests (kernels-test/reliability-*.node.test.ts, Node only):
// build the CLI once, run it as a child process, stop it with signals, and compare checkpoints
// tensor by tensor, byte for byte.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors } from '../src/io/safetensors.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'node', 'cli.mjs');

/** `node build.mjs` (call in beforeAll: the tests run the built CLI, as users do). */
export function buildCli(): void {
  execFileSync(process.execPath, [join(ROOT, 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
}

const made: string[] = [];

export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `vqgpu-${tag}-`));
  made.push(d);
  return d;
}

/** Removes every folder `tempDir` made (call in afterAll). */
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The tiny tokenizer of these tests: 64 synthetic 16 px images, 4×4 tokens, 16 codes. */
export const TINY_TOKENIZER_MODEL = ['--size', '16', '--grid', '4', '--codebook', '16', '--code-dim', '8', '--width', '8', '--batch', '4'];
export const TINY_TOKENIZER = ['--data', 'synthetic', ...TINY_TOKENIZER_MODEL];
/** A tiny AR prior (dropout stays on: resuming must restore the GPU generator too). */
export const TINY_PRIOR = ['--layers', '1', '--dim', '16', '--heads', '2', '--batch', '4', '--warmup', '2'];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** output so far */
  output(): string;
}

/** Starts `node dist/node/cli.mjs ...args`. */
export function startCli(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, output: () => stdout + stderr };
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** Resolves once `cond()` holds (polled), rejecting after `ms`. */
export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The checkpoint `latest.json` of a run folder points at. */
export function latestCheckpoint(dir: string): string {
  const p = join(dir, 'latest.json');
  if (!existsSync(p)) throw new Error(`${dir} has no latest.json`);
  return join(dir, (JSON.parse(readFileSync(p, 'utf8')) as { file: string }).file);
}

/**
 * Names of the tensors whose bytes differ between two checkpoints (missing on either side
 * counts), plus 'metadata.step' if the steps differ. Empty: bit-identical state.
 */
export function checkpointDiff(a: string, b: string): string[] {
  const A = decodeSafetensors(new Uint8Array(readFileSync(a)));
  const B = decodeSafetensors(new Uint8Array(readFileSync(b)));
  const bytes = (d: { data: ArrayBufferView }) => Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength);
  const names = new Set([...Object.keys(A.tensors), ...Object.keys(B.tensors)]);
  const out = [...names].filter((k) => !A.tensors[k] || !B.tensors[k] || !bytes(A.tensors[k]).equals(bytes(B.tensors[k])));
  if (A.metadata.step !== B.metadata.step) out.push('metadata.step');
  return out;
}

/** A failure message with the child's output (vitest shows it when an assertion fails). */
export function explain(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** A tiny tokenizer run (2 steps, synthetic data) and its token cache in `dir`: `{ tok, cache }`. */
export async function tinyTokenizerAndCache(dir: string): Promise<{ tok: string; cache: string }> {
  const tok = join(dir, 'tok'), cache = join(dir, 'tokens.bin');
  const t = await runCli(['train-tokenizer', ...TINY_TOKENIZER, '--steps', '2', '--figure-every', '1000', '--out', tok]);
  if (t.code !== 0) throw new Error(`train-tokenizer failed: ${explain(t)}`);
  const e = await runCli(['encode', '--run', tok, '--out', cache]);
  if (e.code !== 0) throw new Error(`encode failed: ${explain(e)}`);
  return { tok, cache };
}
