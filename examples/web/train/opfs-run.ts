// The run folders in the origin's private file system (OPFS): `vqgpu/tokenizer/` and
// `vqgpu/prior/` hold what the CLI's run folders hold (ckpt-<step>.safetensors files in the CLI's
// format and latest.json naming the newest; the prior's also the token cache it trained on,
// tokens.bin), `vqgpu/data/` the picked folder's images as a data pack. Each file is written with
// createWritable(), which writes a swap file and replaces the target only on close(): a crash or a
// reload mid-write leaves the old file. As in the CLI, latest.json moves only after the checkpoint
// is complete, and old checkpoints go only after that. Used by the worker (writing) and the page
// (reading, for the download).

import { checkpointName, FILE_RE, LATEST, latestPointer } from '../../../src/io/checkpoint.js';
import type { PackIndex } from './data-pack.js';

const ROOT = 'vqgpu';
/** the run folders: the tokenizer's, and the prior's trained on its tokens */
export type RunName = 'tokenizer' | 'prior';
const DATA = 'data';
/** the prior's token cache (`vqgpu encode`'s format) in its run folder */
export const TOKENS = 'tokens.bin';

async function folder(name: string, create: boolean): Promise<FileSystemDirectoryHandle | null> {
  try {
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(ROOT, { create });
    return await root.getDirectoryHandle(name, { create });
  } catch (e) {
    if ((e as DOMException).name === 'NotFoundError') return null;
    throw e;
  }
}

async function writeFile(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array<ArrayBuffer> | string): Promise<void> {
  const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
  try {
    await w.write(bytes);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => {});
    throw e;
  }
}

async function readFile(dir: FileSystemDirectoryHandle, name: string): Promise<Uint8Array<ArrayBuffer> | null> {
  try {
    return new Uint8Array(await (await (await dir.getFileHandle(name)).getFile()).arrayBuffer());
  } catch (e) {
    if ((e as DOMException).name === 'NotFoundError') return null;
    throw e;
  }
}

/** Deletes one run folder (a new prior replaces the old one; the tokenizer stays). */
export async function clearRunFolder(run: RunName): Promise<void> {
  const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(ROOT).catch(() => null);
  await root?.removeEntry(run, { recursive: true }).catch((e: DOMException) => {
    if (e.name !== 'NotFoundError') throw e;
  });
}

/** Writes a file other than a checkpoint into a run folder (the prior's token cache). */
export async function saveRunFile(run: RunName, name: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  await writeFile((await folder(run, true))!, name, bytes);
}

/** A file other than a checkpoint from a run folder (null: absent). */
export async function readRunFile(run: RunName, name: string): Promise<Uint8Array<ArrayBuffer> | null> {
  const dir = await folder(run, false);
  return dir ? readFile(dir, name) : null;
}

/** Deletes the saved runs and their data (a new run starts from nothing). */
export async function clearRun(): Promise<void> {
  const root = await navigator.storage.getDirectory();
  await root.removeEntry(ROOT, { recursive: true }).catch((e: DOMException) => {
    if (e.name !== 'NotFoundError') throw e;
  });
}

/** The run folder's checkpoint files, oldest step first. */
async function listCheckpoints(dir: FileSystemDirectoryHandle): Promise<{ file: string; step: number }[]> {
  const out: { file: string; step: number }[] = [];
  // (tsconfig's lib has no DOM.AsyncIterable: the directory is walked through keys())
  const keys = (dir as unknown as { keys(): AsyncIterable<string> }).keys();
  for await (const name of keys) {
    const m = FILE_RE.exec(name);
    if (m) out.push({ file: name, step: Number(m[1]) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** Writes a checkpoint, points latest.json at it, then keeps only the newest `keep`. */
export async function saveCheckpointFile(step: number, bytes: Uint8Array<ArrayBuffer>, keep = 2, run: RunName = 'tokenizer'): Promise<string> {
  const dir = (await folder(run, true))!;
  const file = checkpointName(step);
  await writeFile(dir, file, bytes);
  await writeFile(dir, LATEST, latestPointer(step));
  const all = await listCheckpoints(dir);
  for (const x of all.filter((x) => x.file !== file).slice(0, Math.max(0, all.length - keep))) await dir.removeEntry(x.file).catch(() => {});
  return file;
}

/**
 * The newest readable checkpoint's bytes: the one latest.json names, else the highest step (as
 * the CLI's loadLatestCheckpoint); null when there is none. `decode` throws for a damaged file.
 */
export async function readLatestCheckpoint<T>(decode: (bytes: Uint8Array<ArrayBuffer>, file: string) => T, run: RunName = 'tokenizer'): Promise<{ file: string; value: T } | null> {
  const dir = await folder(run, false);
  if (!dir) return null;
  const candidates: string[] = [];
  try {
    const p = JSON.parse(new TextDecoder().decode((await readFile(dir, LATEST)) ?? new Uint8Array())) as { file?: unknown };
    if (typeof p.file === 'string' && FILE_RE.test(p.file)) candidates.push(p.file);
  } catch {
    // no pointer, or a damaged one: the highest step that reads
  }
  for (const x of (await listCheckpoints(dir)).reverse()) if (!candidates.includes(x.file)) candidates.push(x.file);
  for (const file of candidates) {
    const bytes = await readFile(dir, file);
    if (!bytes) continue;
    try {
      return { file, value: decode(bytes, file) };
    } catch {
      continue;
    }
  }
  return null;
}

/** The files of a downloadable run folder: the newest checkpoint and latest.json naming it (the prior's: and its token cache). */
export async function runFolderFiles(run: RunName = 'tokenizer'): Promise<{ name: string; bytes: Uint8Array<ArrayBuffer> }[]> {
  const found = await readLatestCheckpoint((bytes, file) => ({ bytes, file }), run);
  if (!found) throw new Error(`There is no saved ${run} run to download yet (the first checkpoint is written at the first pause or after the first checkpoint interval).`);
  const step = Number(FILE_RE.exec(found.file)![1]);
  const tokens = run === 'prior' ? await readFile((await folder(run, false))!, TOKENS) : null;
  return [
    { name: found.file, bytes: found.value.bytes },
    { name: LATEST, bytes: new TextEncoder().encode(latestPointer(step)) },
    ...(tokens ? [{ name: TOKENS, bytes: tokens }] : []),
  ];
}

/** Keeps a picked folder's pack for the run (a reload continues without picking it again). */
export async function saveDataPack(index: PackIndex, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  const dir = (await folder(DATA, true))!;
  await writeFile(dir, 'pack.bin', bytes);
  await writeFile(dir, 'index.json', JSON.stringify(index));
}

export async function readDataPack(): Promise<{ index: PackIndex; bytes: Uint8Array<ArrayBuffer> } | null> {
  const dir = await folder(DATA, false);
  if (!dir) return null;
  const idx = await readFile(dir, 'index.json'), bytes = await readFile(dir, 'pack.bin');
  if (!idx || !bytes) return null;
  return { index: JSON.parse(new TextDecoder().decode(idx)) as PackIndex, bytes };
}
