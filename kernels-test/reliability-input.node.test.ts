// Bad input never ends in a stack trace. An image folder holding every kind of bad file (truncated
// PNG and JPEG, zero-byte, zero-size, text with an image name, huge) among valid but unusual ones
// (grayscale, palette, 16-bit, RGBA, odd sizes, JPEG): training skips each bad file with a warning
// naming it and prints the count and list at the end; --strict stops first with the whole list.
// Empty or missing folders, a missing token cache and bad flag values: one sentence, non-zero exit
// (2 for usage errors).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, explain, removeTempDirs, runCli, tempDir, TINY_TOKENIZER_MODEL, type CliResult } from './reliability-cli.js';

/** w×h RGBA pixels of a simple pattern. */
function pattern(w: number, h: number, alpha = 255): Buffer {
  const d = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) d.set([(i * 37) & 255, (i * 11) & 255, (i * 5) & 255, alpha], 4 * i);
  return d;
}

function png(w: number, h: number, opts: { colorType?: 0 | 2 | 4 | 6; bitDepth?: 8 | 16 } = {}): Buffer {
  const img = new PNG({ width: w, height: h });
  pattern(w, h, 200).copy(img.data);
  return PNG.sync.write(img, { colorType: opts.colorType ?? 2, bitDepth: opts.bitDepth ?? 8, inputColorType: 6, inputHasAlpha: true });
}

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function chunk(type: string, data: Buffer): Buffer {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  let c = 0xffffffff;
  for (const b of td) c = CRC[(c ^ b) & 255] ^ (c >>> 8);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  td.copy(out, 4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}
/** An 8-bit palette PNG (colour type 3), which pngjs cannot write. */
function palettePng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 3, 0, 0, 0], 8);
  const plte = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
  const rows = Buffer.alloc(h * (w + 1));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rows[y * (w + 1) + 1 + x] = (x + y) % 4;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('PLTE', plte), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
/** A PNG whose header says 0×0. */
function zeroSizePng(): Buffer {
  const b = Buffer.from(palettePng(1, 1));
  b.writeUInt32BE(0, 16);
  b.writeUInt32BE(0, 20);
  return b;
}
const jpg = (w: number, h: number) => Buffer.from(jpeg.encode({ width: w, height: h, data: pattern(w, h) }, 90).data);

const GOOD: Record<string, Buffer> = {
  'rgb.png': png(20, 20),
  'gray.png': png(24, 24, { colorType: 0 }),
  'gray-alpha.png': png(16, 16, { colorType: 4 }),
  'deep16.png': png(18, 18, { bitDepth: 16 }),
  'rgba.png': png(20, 20, { colorType: 6 }),
  'palette.png': palettePng(21, 21),
  'odd-17x5.png': png(17, 5),
  'photo.jpg': jpg(24, 24),
  'sub/photo2.jpeg': jpg(33, 19),
};
const BAD: Record<string, Buffer> = {
  'truncated.png': png(32, 32).subarray(0, 60),
  'truncated.jpg': jpg(32, 32).subarray(0, 200),
  'zero-byte.png': Buffer.alloc(0),
  'zero-size.png': zeroSizePng(),
  'notes.png': Buffer.from('these are my notes, not an image\n'),
  'huge.png': png(9000, 1),
};

let data = '', empty = '';
const TRAIN = ['train-tokenizer', ...TINY_TOKENIZER_MODEL];

beforeAll(() => {
  buildCli();
  data = tempDir('images');
  for (const [name, bytes] of Object.entries({ ...GOOD, ...BAD })) {
    mkdirSync(join(data, name, '..'), { recursive: true });
    writeFileSync(join(data, name), bytes);
  }
  writeFileSync(join(data, 'readme.txt'), 'not an image name: ignored'); // not even looked at
  empty = tempDir('empty');
}, 120_000);
afterAll(removeTempDirs);

function oneSentence(r: CliResult, code: number, re: RegExp): void {
  expect(r.code, explain(r)).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !/^Warning: maxDynamic|XDG_RUNTIME_DIR/.test(l));
  expect(lines, explain(r)).toHaveLength(1);
  expect(lines[0]).toMatch(re);
}

describe('bad image files', () => {
  it('are skipped, each named in a warning, and counted and listed at the end', async () => {
    const r = await runCli([...TRAIN, '--data', data, '--steps', '4', '--figure-every', '1000', '--out', tempDir('bad-run')]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    for (const name of Object.keys(BAD)) expect(r.stderr, name).toMatch(new RegExp(`warning: skipping \\S*${name.replace('.', '\\.')}: `));
    for (const name of Object.keys(GOOD)) expect(r.stderr, name).not.toContain(name);
    expect(r.stderr).toMatch(/huge \(9000×1, limit 8192 per side\)/);
    expect(r.stderr).toMatch(/empty file/);
    expect(r.stderr).toMatch(new RegExp(`warning: ${Object.keys(BAD).length} bad image file\\(s\\) were skipped:`));
  });

  it('--strict stops before training with the whole list', async () => {
    const r = await runCli([...TRAIN, '--data', data, '--steps', '4', '--strict', '--out', tempDir('strict-run')]);
    expect(r.code, explain(r)).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`--strict: ${Object.keys(BAD).length} bad image file\\(s\\) in `));
    for (const name of Object.keys(BAD)) expect(r.stderr, name).toContain(name);
    expect(r.stderr).not.toMatch(/step \d/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('missing input and bad flags: one sentence', () => {
  it('an empty folder, a missing folder, a missing token cache', async () => {
    oneSentence(await runCli([...TRAIN, '--data', empty, '--steps', '2', '--out', tempDir('x')]), 1, /Data folder '.*' contains no \.png or \.jpg images\./);
    oneSentence(await runCli([...TRAIN, '--data', join(empty, 'nope'), '--steps', '2', '--out', tempDir('x')]), 1, /Data folder '.*nope' does not exist\./);
    oneSentence(await runCli(['train-prior', '--tokens', join(empty, 'none.bin'), '--steps', '2', '--out', tempDir('x')]), 1, /Token cache '.*none\.bin' does not exist/);
  });

  it('bad flag values and unknown flags exit 2', async () => {
    const out = tempDir('flags');
    oneSentence(await runCli(['train-tokenizer', '--steps', '-1', '--out', out]), 2, /--steps must be between 1 and ∞; got -1\./);
    oneSentence(await runCli(['train-tokenizer', '--size', 'abc', '--steps', '2', '--out', out]), 2, /--size must be an integer; got 'abc'\./);
    oneSentence(await runCli(['train-tokenizer', '--bogus', '--out', out]), 2, /unknown flag --bogus\./);
    oneSentence(await runCli(['train-prior', '--tokens', 'x', '--on-nan', 'maybe', '--out', out]), 2, /--on-nan must be one of stop, skip; got 'maybe'\./);
    oneSentence(await runCli(['train-tokenizer', '--out', out]), 2, /give --steps N or --minutes M\./);
    oneSentence(await runCli(['train-tokenizer', '--mult', '1,x', '--steps', '2', '--out', out]), 2, /--mult '1,x' must be comma-separated integers/);
    oneSentence(await runCli(['train-tokenizer', '--mult', '1,2,4', '--steps', '2', '--out', out]), 1, /--mult has 3 entries; --size 32 → --grid 8 halves the side 1 times after the 2×2 patches/);
    oneSentence(await runCli(['train-tokenizer', '--betas', '0.9', '--steps', '2', '--out', out]), 2, /--betas '0.9' must be two numbers in \[0, 1\) separated by a comma/);
    oneSentence(await runCli(['train-tokenizer', '--schedule-steps', 'soon', '--steps', '2', '--out', out]), 2, /--schedule-steps must be a positive integer, 'auto' or 'none'; got 'soon'\./);
  });
});
