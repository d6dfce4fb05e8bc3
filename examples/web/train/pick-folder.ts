// A folder of images picked by the person, on the main thread: from the folder input
// (<input webkitdirectory>: each File's webkitRelativePath is "folder/sub/x.png") or dropped on the
// page (the drop's directory entries, walked). Keys are paths relative to the picked folder, as
// the CLI's keys are relative to --data, so subfolders become classes the same way. Only .png and
// .jpg/.jpeg names are taken, as the CLI lists them; whether each decodes is the worker's business.

import { isImageName } from '../../../src/data/image.js';

export interface PickedFolder {
  name: string;
  files: { key: string; file: File }[];
}

/** The folder input's selection; throws a sentence when it holds no image. */
export function fromFolderInput(list: File[]): PickedFolder {
  const rel = (f: File) => f.webkitRelativePath || f.name;
  const name = rel(list[0] ?? ({ name: 'images' } as File)).split('/')[0] || 'images';
  const files = list
    .filter((f) => isImageName(f.name))
    .map((f) => ({ key: rel(f).split('/').slice(1).join('/') || f.name, file: f }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (!files.length) throw new Error(`The folder '${name}' holds no .png or .jpg images.`);
  return { name, files };
}

function entryFile(e: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => e.file(resolve, reject));
}

/** Every entry of a directory (readEntries returns them in batches until an empty one). */
async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader(), all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return all;
    all.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFolder['files']): Promise<void> {
  if (entry.isFile) {
    if (isImageName(entry.name)) out.push({ key: prefix + entry.name, file: await entryFile(entry as FileSystemFileEntry) });
  } else if (entry.isDirectory) {
    for (const child of await readAll(entry as FileSystemDirectoryEntry)) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

/** A drop: one folder (its contents, keys relative to it), or loose image files (no classes). */
export async function fromDrop(items: DataTransferItemList): Promise<PickedFolder> {
  const entries: FileSystemEntry[] = [];
  for (let i = 0; i < items.length; i++) {
    const e = items[i].kind === 'file' ? items[i].webkitGetAsEntry() : null;
    if (e) entries.push(e);
  }
  const files: PickedFolder['files'] = [];
  let name = 'dropped images';
  if (entries.length === 1 && entries[0].isDirectory) {
    name = entries[0].name;
    for (const child of await readAll(entries[0] as FileSystemDirectoryEntry)) await walk(child, '', files);
  } else {
    for (const e of entries) await walk(e, '', files);
  }
  files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (!files.length) throw new Error('The drop holds no .png or .jpg images (drop a folder of images; its subfolders are the classes).');
  return { name, files };
}
