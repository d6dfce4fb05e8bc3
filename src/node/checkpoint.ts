// Training checkpoints on disk (Node only). One safetensors file per checkpoint holds the model's
// state dict ("model." prefix), the optimizer state ("optim." prefix, or "optim.<name>." for named
// optimizers) and, in the metadata, the step, optimizer step counts, RNG state, config and extras
// as JSON. Files are written
// atomically (temp file, fsync, rename, fsync directory), then `latest.json` is pointed at the new
// file (also atomically), and only then are old checkpoints beyond `keep` removed — so a crash at
// any moment leaves the last good checkpoint loadable.

import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomicSync } from './atomic-file.js';
import { toF16 } from '../io/f16.js';
import { checksumOf } from './checksum.js';
import { decodeSafetensors, encodeSafetensors, type DecodedSafetensors } from '../io/safetensors.js';
import { fromHostTensor, loadSafetensorsInto, toHostTensors } from '../io/state.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';

const FORMAT = 'vqgpu-checkpoint/1';
const LATEST = 'latest.json';
const FILE_RE = /^ckpt-(\d+)\.safetensors$/;

/** Writes `bytes` to `path` so that readers see the old file or the new one, never a partial one. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  writeFileAtomicSync(path, typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
}

/** The optimizers of a checkpoint: one (`optimizer`) or several by name (`optimizers`, e.g. a GAN's g and d). */
export interface CheckpointOptimizers {
  optimizer?: Optimizer;
  optimizers?: Record<string, Optimizer>;
}

/** Each optimizer with its tensor-name prefix and step metadata key. */
function optimizerEntries(o: CheckpointOptimizers): { opt: Optimizer; prefix: string; stepKey: string }[] {
  const out = o.optimizer ? [{ opt: o.optimizer, prefix: 'optim.', stepKey: 'optimizer_step' }] : [];
  for (const [name, opt] of Object.entries(o.optimizers ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`checkpoint: optimizer name '${name}' must be an identifier (letters, digits, '_'; not a number).`);
    out.push({ opt, prefix: `optim.${name}.`, stepKey: `optimizer_step.${name}` });
  }
  return out;
}

export interface CheckpointContents extends CheckpointOptimizers {
  model: Module;
  /** the training step this checkpoint follows */
  step: number;
  /** RNG state of the training loop (JSON-serialisable) */
  rng?: unknown;
  /** model/training configuration (JSON-serialisable), stored as metadata "config" */
  config?: unknown;
  /** anything else JSON-serialisable (data-loader position, EMA of the loss, ...) */
  extra?: unknown;
}

export function checkpointName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`checkpoint step must be a non-negative integer, got ${step}.`);
  return `ckpt-${String(step).padStart(6, '0')}.safetensors`;
}

/** ckpt files in `dir`, oldest step first. */
export async function listCheckpoints(dir: string): Promise<{ file: string; step: number }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    if (code === 'ENOTDIR') throw new Error(`'${dir}' is a file, not a run folder (give the folder that holds the checkpoints, e.g. '${dirname(dir)}').`);
    throw e;
  }
  return names
    .map((file) => ({ file, m: FILE_RE.exec(file) }))
    .filter((x) => x.m)
    .map(({ file, m }) => ({ file, step: Number(m![1]) }))
    .sort((a, b) => a.step - b.step);
}

/**
 * Saves a checkpoint as `dir/ckpt-<step>.safetensors`, points `dir/latest.json` at it, then deletes
 * all but the newest `keep` checkpoints. Reads the GPU state (waits for the GPU). Returns the path.
 */
export async function saveCheckpoint(dir: string, c: CheckpointContents, opts: { keep?: number } = {}): Promise<string> {
  const keep = opts.keep ?? 3;
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`saveCheckpoint: keep must be a positive integer, got ${keep}.`);
  const file = checkpointName(c.step);
  const named: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(c.model.stateDict())) named[`model.${k}`] = t;
  const metadata: Record<string, string> = { format: FORMAT, step: String(c.step) };
  if (c.optimizer && c.optimizers) throw new Error('saveCheckpoint: give `optimizer` or `optimizers`, not both.');
  for (const { opt, prefix, stepKey } of optimizerEntries(c)) {
    const s = opt.stateDict();
    for (const [k, t] of Object.entries(s.tensors)) named[prefix + k] = t;
    metadata[stepKey] = String(s.step);
  }
  if (c.rng !== undefined) metadata.rng = JSON.stringify(c.rng);
  if (c.config !== undefined) metadata.config = JSON.stringify(c.config);
  if (c.extra !== undefined) metadata.extra = JSON.stringify(c.extra);
  const bytes = encodeSafetensors(await toHostTensors(named), metadata);

  await mkdir(dir, { recursive: true });
  const path = join(dir, file);
  await writeFileAtomic(path, bytes);
  await writeFileAtomic(join(dir, LATEST), JSON.stringify({ file, step: c.step }) + '\n');
  const all = await listCheckpoints(dir);
  const doomed = all.filter((x) => x.file !== file).slice(0, Math.max(0, all.length - keep));
  for (const x of doomed) await unlink(join(dir, x.file)).catch(() => {});
  return path;
}

export interface LoadedCheckpoint {
  path: string;
  step: number;
  rng: unknown;
  config: unknown;
  extra: unknown;
  /** the whole decoded file (tensors by prefixed name, metadata) */
  decoded: DecodedSafetensors;
  /** newer checkpoint files that could not be read, with the reason (empty normally) */
  skipped: string[];
}

function parseJson(meta: Record<string, string>, key: string, path: string): unknown {
  if (meta[key] === undefined) return undefined;
  try {
    return JSON.parse(meta[key]);
  } catch {
    throw new Error(`checkpoint ${path}: metadata '${key}' is not valid JSON.`);
  }
}

async function readCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const decoded = decodeSafetensors(new Uint8Array(await readFile(path)));
  const meta = decoded.metadata;
  if (meta.format !== FORMAT) throw new Error(`checkpoint ${path}: format '${meta.format}' is not '${FORMAT}'.`);
  const step = Number(meta.step);
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`checkpoint ${path}: bad step '${meta.step}'.`);
  return {
    path, step, decoded, skipped: [],
    rng: parseJson(meta, 'rng', path), config: parseJson(meta, 'config', path), extra: parseJson(meta, 'extra', path),
  };
}

export interface RestoreTargets extends CheckpointOptimizers {
  model?: Module;
}

/** Restores a loaded checkpoint into a model and optimizers (named as when it was saved). */
export function restoreCheckpoint(ckpt: LoadedCheckpoint, targets: RestoreTargets): void {
  const { decoded, path } = ckpt;
  if (targets.model) loadSafetensorsInto(targets.model, decoded, { prefix: 'model.' });
  for (const { opt, prefix, stepKey } of optimizerEntries(targets)) {
    const step = Number(decoded.metadata[stepKey]);
    if (decoded.metadata[stepKey] === undefined || !Number.isSafeInteger(step)) {
      throw new Error(`checkpoint ${path} holds no state for optimizer '${prefix.slice(0, -1)}' (metadata '${stepKey}').`);
    }
    const tensors: Record<string, Tensor> = {};
    try {
      for (const [k, h] of Object.entries(decoded.tensors)) {
        // 'optim.0.exp_avg' belongs to the single optimizer; 'optim.g.0.exp_avg' to optimizer 'g'
        const rest = k.startsWith(prefix) ? k.slice(prefix.length) : null;
        if (rest !== null && /^\d+\./.test(rest)) tensors[rest] = fromHostTensor(h, k);
      }
      opt.loadStateDict({ step, tensors });
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
  }
}

/**
 * Loads the newest readable checkpoint of `dir`: the one `latest.json` names, or, if that is missing
 * or damaged, the highest-step ckpt file that decodes. Restores it into `targets` when given.
 * Returns null when `dir` holds no checkpoint.
 */
export async function loadLatestCheckpoint(dir: string, targets: RestoreTargets = {}): Promise<LoadedCheckpoint | null> {
  const candidates: string[] = [];
  try {
    const latest = JSON.parse(await readFile(join(dir, LATEST), 'utf8')) as { file?: unknown };
    if (typeof latest.file === 'string' && FILE_RE.test(latest.file)) candidates.push(latest.file);
  } catch {
    // no pointer, or a damaged one: fall back to scanning
  }
  for (const x of (await listCheckpoints(dir)).reverse()) if (!candidates.includes(x.file)) candidates.push(x.file);
  const failures: string[] = [];
  for (const file of candidates) {
    let ckpt: LoadedCheckpoint;
    try {
      ckpt = await readCheckpoint(join(dir, file));
    } catch (e) {
      failures.push(`${file}: ${(e as Error).message}`);
      continue;
    }
    restoreCheckpoint(ckpt, targets);
    ckpt.skipped = failures;
    return ckpt;
  }
  if (failures.length) throw new Error(`loadLatestCheckpoint(${dir}): no readable checkpoint.\n${failures.join('\n')}`);
  return null;
}

/** The kinds of run folder the CLI writes; the checkpoint's config says which one it is. */
export type RunKind = 'tokenizer' | 'prior' | 'classifier';

/** What a checkpoint's config says it is, in words: "a tokenizer run (16 codes, 4×4 tokens of 16 px)". */
export function describeRun(config: unknown): { kind: RunKind | null; text: string } {
  const c = (config ?? {}) as {
    tokenizer?: { kind?: string; codebook?: number; grid?: number; size?: number };
    prior?: { kind?: string; prior?: string; codebook?: number; grid?: number };
    classifier?: { kind?: string; classes?: unknown[]; size?: number };
  };
  if (c.tokenizer?.kind === 'vqgpu-tokenizer') {
    const t = c.tokenizer;
    return { kind: 'tokenizer', text: `a tokenizer run (${t.codebook} codes, ${t.grid}×${t.grid} tokens of ${t.size} px images)` };
  }
  if (c.prior?.kind === 'vqgpu-prior') {
    const p = c.prior;
    return { kind: 'prior', text: `a prior run (${p.prior} prior over ${p.codebook} codes on ${p.grid}×${p.grid})` };
  }
  if (c.classifier?.kind === 'vqgpu-classifier') {
    const k = c.classifier;
    return { kind: 'classifier', text: `a classifier run (${k.classes?.length} classes of ${k.size} px images)` };
  }
  return { kind: null, text: 'a checkpoint of unknown kind (no tokenizer, prior or classifier config)' };
}

const MADE_BY: Record<RunKind, string> = { tokenizer: 'vqgpu train-tokenizer', prior: 'vqgpu train-prior', classifier: 'vqgpu train-classifier' };

/**
 * Refuses a checkpoint of the wrong kind (a prior given where a tokenizer is needed, or the other
 * way), naming both sides: what `what` (e.g. "--run /tmp/x") is and what was expected.
 */
export function expectRunKind(ckpt: LoadedCheckpoint, want: RunKind, what: string): void {
  const d = describeRun(ckpt.config);
  if (d.kind === want) return;
  throw new Error(`${what} is ${d.text} (${ckpt.path}), but a ${want} run made by \`${MADE_BY[want]}\` is needed here.`);
}

/**
 * Copies the newest checkpoint of run folder `dir` into `out` with the weights ("model." tensors),
 * format, step and config only: no optimizer state, RNG or extras. The copy is a run folder that
 * `--tokenizer`, `--prior` and `--run` accept (a third of the bytes for Adam-trained runs). Returns
 * the path written.
 */
export async function exportWeights(dir: string, out: string, opts: { f16?: boolean } = {}): Promise<string> {
  const all = await listCheckpoints(dir);
  let file = all.length ? all[all.length - 1].file : null;
  try {
    const latest = JSON.parse(await readFile(join(dir, LATEST), 'utf8')) as { file?: unknown };
    if (typeof latest.file === 'string' && all.some((x) => x.file === latest.file)) file = latest.file;
  } catch {
    // no pointer: the newest file
  }
  if (!file) throw new Error(`'${dir}' holds no checkpoint (ckpt-<step>.safetensors) to export.`);
  const bytes = new Uint8Array(await readFile(join(dir, file)));
  const decoded = decodeSafetensors(bytes);
  const { format, step, config } = decoded.metadata;
  if (format !== FORMAT) throw new Error(`${join(dir, file)} is not a vqgpu checkpoint (format '${format ?? 'none'}').`);
  const kept = Object.fromEntries(Object.entries(decoded.tensors).filter(([k]) => k.startsWith('model.'))
    .map(([k, t]) => [k, opts.f16 ? toF16(t) : t]));
  // The source's checksum (or the one it carries): token caches and priors name a tokenizer by it.
  const metadata: Record<string, string> = { format, step, source_checksum: decoded.metadata.source_checksum ?? checksumOf(bytes) };
  if (config !== undefined) metadata.config = config;
  await mkdir(out, { recursive: true });
  const path = join(out, file);
  await writeFileAtomic(path, encodeSafetensors(kept, metadata));
  await writeFileAtomic(join(out, LATEST), JSON.stringify({ file, step: Number(step) }) + '\n');
  return path;
}
