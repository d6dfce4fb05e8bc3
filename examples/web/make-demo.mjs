#!/usr/bin/env node
// Makes the page's demo checkpoint (examples/web/demo/) from run folders of the Node CLI:
//   node examples/web/make-demo.mjs --tokenizer TOKRUN --ar ARRUN --mask MASKRUN [--diffusion RUN] \
//     --tokens CACHE [--out examples/web/demo]
// Each run's newest checkpoint (the one latest.json names) is copied without its optimizer state
// (the "optim.*" tensors and "optimizer_step*" metadata): the page only samples, and this keeps the
// files small. The model tensors and the config/step metadata stay as the CLI wrote them, so the
// files still load in the CLI (not for --resume) and on the page by name: tokenizer.safetensors,
// prior-ar.safetensors, prior-mask.safetensors (or prior-diffusion.safetensors), tokens.bin.
// (A stripped tokenizer file has another SHA-256 than the one recorded in the token cache and the
// priors; the page compares codebook and grid, not checksums.)
//
// The shipped demo was made on a CPU-only machine (lavapipe) with:
//   vqgpu train-tokenizer --data emoji --size 32 --grid 8 --codebook 256 --width 16 --minutes 6 --out /tmp/webdemo/tok
//   vqgpu encode --run /tmp/webdemo/tok --out /tmp/webdemo/tokens.bin
//   vqgpu train-prior --kind ar   --tokens /tmp/webdemo/tokens.bin --layers 2 --dim 64 --minutes 4 --out /tmp/webdemo/ar
//   vqgpu train-prior --kind mask --tokens /tmp/webdemo/tokens.bin --layers 2 --dim 64 --minutes 4 --out /tmp/webdemo/mask
// Replace it with better-trained runs of the same format by running this script again.

import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The newest checkpoint file of a run folder (latest.json, else the highest step). */
function newestCheckpoint(dir) {
  try {
    const { file } = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8'));
    if (typeof file === 'string') return join(dir, file);
  } catch {
    // no pointer: scan
  }
  const files = readdirSync(dir).filter((f) => /^ckpt-\d+\.safetensors$/.test(f)).sort();
  if (!files.length) throw new Error(`${dir} holds no ckpt-*.safetensors (not a run folder of the CLI).`);
  return join(dir, files[files.length - 1]);
}

/**
 * safetensors: u64 header length | JSON header {name: {dtype, shape, data_offsets: [begin, end]},
 * __metadata__} | data. Returns a copy holding only the tensors `keep` accepts, data repacked.
 */
function filterSafetensors(bytes, keep, keepMeta) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const data = bytes.subarray(8 + n);
  const out = {};
  const chunks = [];
  let at = 0;
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') {
      out.__metadata__ = Object.fromEntries(Object.entries(t).filter(([k]) => keepMeta(k)));
      continue;
    }
    if (!keep(name)) continue;
    const [b, e] = t.data_offsets;
    chunks.push(data.subarray(b, e));
    out[name] = { ...t, data_offsets: [at, at + (e - b)] };
    at += e - b;
  }
  // the header is padded with spaces so that the data starts 8-byte aligned (as the format recommends)
  const text = JSON.stringify(out);
  const len = new TextEncoder().encode(text).length;
  const json = new TextEncoder().encode(text + ' '.repeat((8 - ((8 + len) % 8)) % 8));
  const file = new Uint8Array(8 + json.length + at);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  let p = 8 + json.length;
  for (const c of chunks) {
    file.set(c, p);
    p += c.length;
  }
  return file;
}

function parseArgs(argv) {
  const o = { out: 'examples/web/demo' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!['tokenizer', 'ar', 'mask', 'diffusion', 'tokens', 'out'].includes(k) || argv[i + 1] === undefined) {
      throw new Error(`usage: node examples/web/make-demo.mjs --tokenizer RUN --ar RUN --mask RUN [--diffusion RUN] --tokens CACHE [--out DIR] (bad argument '${argv[i]}')`);
    }
    o[k] = argv[i + 1];
  }
  for (const k of ['tokenizer', 'ar', 'tokens']) if (!o[k]) throw new Error(`make-demo: --${k} is required.`);
  if (!o.mask && !o.diffusion) throw new Error('make-demo: give --mask RUN or --diffusion RUN (the page animates its reverse process).');
  return o;
}

const o = parseArgs(process.argv.slice(2));
mkdirSync(o.out, { recursive: true });
const runs = [['tokenizer', 'tokenizer.safetensors'], ['ar', 'prior-ar.safetensors'], ['mask', 'prior-mask.safetensors'], ['diffusion', 'prior-diffusion.safetensors']];
for (const [k, name] of runs) {
  if (!o[k]) continue;
  const src = newestCheckpoint(o[k]);
  const bytes = filterSafetensors(new Uint8Array(readFileSync(src)), (t) => t.startsWith('model.'), (m) => !m.startsWith('optimizer_step'));
  writeFileSync(join(o.out, name), bytes);
  console.log(`${join(o.out, name)}: ${(bytes.length / 1024).toFixed(0)} KiB (from ${src})`);
}
copyFileSync(o.tokens, join(o.out, 'tokens.bin'));
console.log(`${join(o.out, 'tokens.bin')}: ${(readFileSync(o.tokens).length / 1024).toFixed(0)} KiB (from ${o.tokens})`);
