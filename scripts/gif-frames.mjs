#!/usr/bin/env node
// Lays out the frames of a GIF side by side in one PNG, so that an image viewer that shows only a
// GIF's first frame (or none) can check every frame the samplers wrote. A plain GIF89a decoder
// (LZW, global or local colour tables, transparency, frames composited as a browser plays them;
// not interlaced), enough for the GIFs this project writes and most others.
// Usage: node scripts/gif-frames.mjs IN.gif OUT.png [--every K] [--columns C]
//   --every K    keep every K-th frame, and always the last (default: at most 16 frames kept)
//   --columns C  frames per row of the sheet (default: all in one row, at most 8)

import { readFileSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

/** LZW-decodes one image's data sub-blocks into `count` colour indices. */
function lzw(data, minCodeSize, count) {
  const out = new Uint8Array(count);
  const clear = 1 << minCodeSize, end = clear + 1;
  let size = minCodeSize + 1, next = end + 1, prev = -1, n = 0, bits = 0, acc = 0;
  // each code's string as (prefix code, last byte, first byte, length)
  const prefix = new Int32Array(4096), suffix = new Uint8Array(4096), first = new Uint8Array(4096), len = new Int32Array(4096);
  for (let i = 0; i < clear; i++) (suffix[i] = first[i] = i), (len[i] = 1), (prefix[i] = -1);
  for (let p = 0; p < data.length && n < count; ) {
    acc |= data[p++] << bits;
    bits += 8;
    while (bits >= size && n < count) {
      const code = acc & ((1 << size) - 1);
      acc >>>= size;
      bits -= size;
      if (code === clear) { size = minCodeSize + 1; next = end + 1; prev = -1; continue; }
      if (code === end) return out;
      let c = code;
      if (code > next || (code === next && prev < 0)) throw new Error(`gif-frames: LZW code ${code} out of range (next ${next}).`);
      if (prev >= 0 && next < 4096) {
        // the new entry: prev's string + the first byte of code's (prev's own for code === next)
        prefix[next] = prev; first[next] = first[prev]; len[next] = len[prev] + 1;
        suffix[next] = code === next ? first[prev] : first[code];
        next++;
        if (next === 1 << size && size < 12) size++;
      }
      for (let i = len[c] - 1; i >= 0; i--, c = prefix[c]) if (n + i < count) out[n + i] = suffix[c];
      n += len[code];
      prev = code;
    }
  }
  return out;
}

/** { width, height, frames: Uint8Array RGBA [height·width·4] each, composited }. */
export function decodeGif(buf) {
  const sig = buf.subarray(0, 6).toString('latin1');
  if (sig !== 'GIF89a' && sig !== 'GIF87a') throw new Error(`gif-frames: not a GIF (starts '${sig}').`);
  const W = buf.readUInt16LE(6), H = buf.readUInt16LE(8), packed = buf[10];
  let p = 13;
  const table = (flags) => { const n = 3 << ((flags & 7) + 1); const t = buf.subarray(p, p + n); p += n; return t; };
  const global = packed & 0x80 ? table(packed) : null;
  const subBlocks = () => { const parts = []; for (let n = buf[p++]; n; n = buf[p++]) (parts.push(buf.subarray(p, p + n)), (p += n)); return Buffer.concat(parts); };
  const canvas = new Uint8Array(W * H * 4).fill(255);
  const frames = [];
  let transparent = -1, disposal = 0;
  while (p < buf.length) {
    const b = buf[p++];
    if (b === 0x3b) break;
    if (b === 0x21) {
      const label = buf[p++];
      const body = subBlocks();
      if (label === 0xf9) ((disposal = (body[0] >> 2) & 7), (transparent = body[0] & 1 ? body[3] : -1));
      continue;
    }
    if (b !== 0x2c) throw new Error(`gif-frames: unexpected block 0x${b.toString(16)} at byte ${p - 1}.`);
    const x = buf.readUInt16LE(p), y = buf.readUInt16LE(p + 2), w = buf.readUInt16LE(p + 4), h = buf.readUInt16LE(p + 6), f = buf[p + 8];
    p += 9;
    if (f & 0x40) throw new Error('gif-frames: interlaced frames are not supported.');
    const colours = f & 0x80 ? table(f) : global;
    if (!colours) throw new Error('gif-frames: a frame without a colour table.');
    const minCode = buf[p++];
    const idx = lzw(subBlocks(), minCode, w * h);
    const before = disposal === 3 ? canvas.slice() : null;
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
      const i = idx[r * w + c];
      if (i === transparent || y + r >= H || x + c >= W) continue;
      const o = ((y + r) * W + x + c) * 4;
      canvas[o] = colours[3 * i]; canvas[o + 1] = colours[3 * i + 1]; canvas[o + 2] = colours[3 * i + 2]; canvas[o + 3] = 255;
    }
    frames.push(canvas.slice());
    if (disposal === 2) for (let r = 0; r < h; r++) canvas.fill(255, ((y + r) * W + x) * 4, ((y + r) * W + x + w) * 4);
    if (before) canvas.set(before);
    transparent = -1;
    disposal = 0;
  }
  return { width: W, height: H, frames };
}

function main(argv) {
  const [inp, out] = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  if (!inp || !out) throw new Error('usage: node scripts/gif-frames.mjs IN.gif OUT.png [--every K] [--columns C]');
  const opt = (name) => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) : undefined; };
  const { width: W, height: H, frames } = decodeGif(readFileSync(inp));
  const every = opt('--every') ?? Math.max(1, Math.ceil(frames.length / 16));
  const kept = frames.filter((_, i) => i % every === 0 || i === frames.length - 1);
  const cols = opt('--columns') ?? Math.min(kept.length, 8), rows = Math.ceil(kept.length / cols), gap = 4;
  const png = new PNG({ width: cols * (W + gap) - gap, height: rows * (H + gap) - gap });
  png.data.fill(255);
  kept.forEach((fr, k) => {
    const ox = (k % cols) * (W + gap), oy = Math.floor(k / cols) * (H + gap);
    for (let r = 0; r < H; r++) png.data.set(fr.subarray(r * W * 4, (r + 1) * W * 4), ((oy + r) * png.width + ox) * 4);
  });
  writeFileSync(out, PNG.sync.write(png));
  console.error(`gif-frames: ${frames.length} frames of ${W}×${H}; kept ${kept.length} (every ${every}, and the last) → ${out}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
