// Training checkpoints on disk (Node only). The file format (safetensors with model.*/optim.*
// tensors and format/step/config/extra metadata) is src/io/checkpoint.ts, shared with the web
// page, which writes the same files to its origin's private file system. Files are written
// atomically (temp file, fsync, rename, fsync directory), then `latest.json` is pointed at the new
// file (also atomically), and only then are old checkpoints beyond `keep` removed — so a crash at
// any moment leaves the last good checkpoint loadable.

import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomicSync } from './atomic-file.js';
import { toF16 } from '../io/f16.js';
import { UsageError } from '../io/flags.js';
import { samplingPrefix } from '../io/run-loader.js';
import { checksumOf } from './checksum.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import {
  checkpointName, decodeCheckpoint, encodeCheckpoint, expectRunKind, FILE_RE, FORMAT, LATEST, latestPointer, restoreCheckpoint,
  type CheckpointContents, type LoadedCheckpoint, type RestoreTargets, type RunKind,
} from '../io/checkpoint.js';

// The format itself is browser-safe (the web page writes the same files): re-exported for Node's users.
export {
  checkpointName, describeRun, expectRunKind, restoreCheckpoint,
  type CheckpointContents, type CheckpointOptimizers, type LoadedCheckpoint, type RestoreTargets, type RunKind,
} from '../io/checkpoint.js';

/** Writes `bytes` to `path` so that readers see the old file or the new one, never a partial one. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  writeFileAtomicSync(path, typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
}

/**
 * The run folder of a training command, made if missing, and on `--resume` its newest checkpoint
 * (which must be a `kind` run), or null. A fresh run (no --resume) refuses a folder that already
 * holds checkpoints: training there would mix two runs' checkpoints, point latest.json at the new
 * one and rotate the old ones away (a tokenizer's folder given to train-prior would lose the
 * tokenizer). One clear error instead.
 */
export async function openRunFolder(out: string, resume: boolean, kind: RunKind, command: string): Promise<LoadedCheckpoint | null> {
  if (!resume) {
    const all = await listCheckpoints(out);
    if (all.length) throw new UsageError(`${command}: '${out}' already holds a run (its checkpoint at step ${all[all.length - 1].step}); continue it with --resume, or give a new --out folder.`);
  }
  await mkdir(out, { recursive: true });
  if (!resume) return null;
  const ckpt = await loadLatestCheckpoint(out);
  if (ckpt) expectRunKind(ckpt, kind, `--out '${out}'`);
  for (const why of ckpt?.skipped ?? []) console.error(`warning: skipped an unreadable checkpoint: ${why}`);
  if (!ckpt) console.error(`note: --resume given but ${out} has no checkpoint; starting fresh.`);
  return ckpt;
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
  const bytes = await encodeCheckpoint(c);

  await mkdir(dir, { recursive: true });
  const path = join(dir, file);
  await writeFileAtomic(path, bytes);
  await writeFileAtomic(join(dir, LATEST), latestPointer(c.step));
  const all = await listCheckpoints(dir);
  const doomed = all.filter((x) => x.file !== file).slice(0, Math.max(0, all.length - keep));
  for (const x of doomed) await unlink(join(dir, x.file)).catch(() => {});
  return path;
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
      ckpt = decodeCheckpoint(new Uint8Array(await readFile(join(dir, file))), join(dir, file));
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

/**
 * Copies the newest checkpoint of run folder `dir` into `out` with the weights to sample with (the
 * "ema." average where the run kept one, unless `weights: 'model'`; stored as "model." tensors),
 * format, step and config only: no optimizer state, RNG or extras. The copy is a run folder that
 * `--tokenizer`, `--prior` and `--run` accept (a third of the bytes for Adam-trained runs). Returns
 * the path written.
 */
export async function exportWeights(dir: string, out: string, opts: { f16?: boolean; weights?: 'ema' | 'model' } = {}): Promise<string> {
  if (resolve(out) === resolve(dir)) {
    throw new Error(`the copy's folder '${out}' is the run folder itself: its checkpoint (and the optimizer state a run resumes from) would be replaced; give another --out.`);
  }
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
  // The sampling weights (the average, where the run kept one), stored as the copy's "model.".
  const from = samplingPrefix(decoded, opts.weights);
  const kept = Object.fromEntries(Object.entries(decoded.tensors).filter(([k]) => k.startsWith(from))
    .map(([k, t]) => [`model.${k.slice(from.length)}`, opts.f16 ? toF16(t) : t]));
  // The source's checksum (or the one it carries): token caches and priors name a tokenizer by it.
  const metadata: Record<string, string> = { format, step, source_checksum: decoded.metadata.source_checksum ?? checksumOf(bytes) };
  if (config !== undefined) metadata.config = config;
  await mkdir(out, { recursive: true });
  const path = join(out, file);
  await writeFileAtomic(path, encodeSafetensors(kept, metadata));
  await writeFileAtomic(join(out, LATEST), JSON.stringify({ file, step: Number(step) }) + '\n');
  return path;
}
