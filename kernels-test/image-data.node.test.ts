// The image data side (Node only): PNG decoding (src/node/decode-image.ts) of RGBA, palette,
// grayscale and 16-bit files plus broken ones, compositing and the box-filter resize
// (src/data/image.ts), folder data sets with their deterministic held-out split
// (src/node/dataset.ts), the batch loader's bad-file handling and resume (src/node/image-loader.ts),
// and the emoji data set.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { augmentInto, compositeOnWhite, cropResize, preprocess } from '../src/data/image.js';
import { emojiDataSet, folderDataSet, hash32, isHeldout, syntheticDataSet } from '../src/node/dataset.js';
import { decodeImage } from '../src/node/decode-image.js';
import { ImageLoader } from '../src/node/image-loader.js';
import { Rng } from './reference.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vqgpu-img-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// --- a minimal PNG writer (pngjs cannot write palette images) --------------------------------
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** A PNG of `rows` (already packed bytes per scanline, no filter byte). */
function rawPng(width: number, height: number, bitDepth: number, colorType: number, rows: Uint8Array[], extra: Buffer[] = []): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  const scan = Buffer.concat(rows.map((r) => Buffer.concat([Buffer.from([0]), Buffer.from(r)])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), ...extra, chunk('IDAT', deflateSync(scan)), chunk('IEND', new Uint8Array(0)),
  ]);
}
/** An 8-bit RGBA PNG through pngjs. */
function rgbaPng(width: number, height: number, data: Uint8Array): Buffer {
  const png = new PNG({ width, height });
  png.data = Buffer.from(data);
  return PNG.sync.write(png);
}
function randomRGBA(rng: Rng, width: number, height: number): Uint8Array {
  return Uint8Array.from({ length: width * height * 4 }, (_, i) => (i % 4 === 3 ? 255 : rng.int(256)));
}

describe('decodeImage', () => {
  it('RGBA: decoded exactly; compositing on white turns a transparent pixel white', () => {
    const px = Uint8Array.from([255, 0, 0, 0, /**/ 0, 0, 0, 128, /**/ 10, 20, 30, 255, /**/ 0, 255, 0, 255]);
    const img = decodeImage(rgbaPng(2, 2, px), 'rgba.png');
    expect([img.width, img.height]).toEqual([2, 2]);
    expect(Array.from(img.data)).toEqual(Array.from(px));
    const rgb = compositeOnWhite(img);
    expect(Array.from(rgb.subarray(0, 3))).toEqual([1, 1, 1]);
    for (const v of rgb.subarray(3, 6)) expect(v).toBeCloseTo(1 - 128 / 255, 6);
    expect(Array.from(rgb.subarray(6, 9)).map((v) => Math.round(v * 255))).toEqual([10, 20, 30]);
  });

  it('palette (with tRNS), grayscale and 16-bit RGB are normalised to 8-bit RGBA', () => {
    const plte = chunk('PLTE', Uint8Array.from([255, 0, 0, /**/ 0, 0, 255, /**/ 7, 8, 9]));
    const trns = chunk('tRNS', Uint8Array.from([0]));
    const pal = decodeImage(rawPng(3, 2, 8, 3, [Uint8Array.from([0, 1, 2]), Uint8Array.from([2, 1, 0])], [plte, trns]), 'palette.png');
    expect(Array.from(pal.data)).toEqual([255, 0, 0, 0, 0, 0, 255, 255, 7, 8, 9, 255, 7, 8, 9, 255, 0, 0, 255, 255, 255, 0, 0, 0]);
    const white = compositeOnWhite(pal);
    expect(Array.from(white.subarray(0, 3))).toEqual([1, 1, 1]);

    const gray = decodeImage(rawPng(2, 2, 8, 0, [Uint8Array.from([0, 100]), Uint8Array.from([200, 255])]), 'gray.png');
    expect(Array.from(gray.data)).toEqual([0, 0, 0, 255, 100, 100, 100, 255, 200, 200, 200, 255, 255, 255, 255, 255]);

    // 16-bit RGB: big-endian samples; 8-bit values are the samples scaled by 255/65535.
    const samples = [0, 65535, 257 * 100, 1000, 40000, 65000];
    const row = new Uint8Array(12);
    samples.forEach((v, i) => new DataView(row.buffer).setUint16(2 * i, v));
    const deep = decodeImage(rawPng(2, 1, 16, 2, [row]), 'deep.png');
    expect([deep.width, deep.height]).toEqual([2, 1]);
    const want = samples.map((v) => (v * 255) / 65535);
    const got = [0, 1, 2, 4, 5, 6].map((i) => deep.data[i]);
    got.forEach((g, i) => expect(Math.abs(g - want[i]), `sample ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(1));
    expect([deep.data[3], deep.data[7]]).toEqual([255, 255]);
  });

  it('odd sizes: centre crop + box filter preserve the mean colour of the crop', () => {
    const rng = new Rng(3);
    for (const [w, h, size] of [[37, 23, 8], [23, 37, 5], [37, 23, 23], [20, 20, 7]] as const) {
      const img = { width: w, height: h, data: randomRGBA(rng, w, h) };
      const rgb = compositeOnWhite(img);
      const side = Math.min(w, h), x0 = (w - side) / 2, y0 = (h - side) / 2;
      const out = cropResize(rgb, w, h, size);
      expect(out.length).toBe(size * size * 3);
      for (let c = 0; c < 3; c++) {
        let crop = 0, res = 0;
        for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) crop += rgb[3 * (y * w + x) + c];
        for (let i = 0; i < size * size; i++) res += out[3 * i + c];
        expect(res / (size * size), `${w}×${h} → ${size}, channel ${c}`).toBeCloseTo(crop / (side * side), 4);
      }
      // Same size: the crop itself.
      if (size === side) for (let i = 0; i < 3 * 5; i++) expect(out[i]).toBeCloseTo(rgb[3 * x0 + i], 5);
    }
    // preprocess: planar [-1, 1]
    const p = preprocess({ width: 2, height: 2, data: Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255]) }, 2);
    expect(Array.from(p.data)).toEqual([1, -1, 1, 1, /**/ 1, -1, 1, -1, /**/ 1, -1, 1, -1]);
  });

  it('bad files raise one clear Error each', () => {
    const good = rgbaPng(8, 8, randomRGBA(new Rng(4), 8, 8));
    const huge = Buffer.from(good);
    huge.writeUInt32BE(100000, 16);
    const zero = Buffer.from(good);
    zero.writeUInt32BE(0, 20);
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated.png', good.subarray(0, Math.floor(good.length / 2)), /truncated\.png: cannot decode/],
      ['header-only.png', good.subarray(0, 20), /header-only\.png: not a PNG or JPEG/],
      ['empty.png', new Uint8Array(0), /empty\.png: empty file/],
      ['text.png', new TextEncoder().encode('this is not an image, just text\n'), /text\.png: not a PNG or JPEG/],
      ['huge.png', huge, /huge\.png: image is huge/],
      ['zero.png', zero, /zero\.png: image has zero size/],
      ['bad.jpg', Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0, 4, 0, 4, 3, 1, 2, 3]), /bad\.jpg: cannot decode/],
    ];
    for (const [name, bytes, re] of cases) {
      let err: unknown = null;
      try {
        decodeImage(bytes, name);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(Error);
      expect((err as Error).message, name).toMatch(re);
      expect((err as Error).message.split('\n').length, name).toBe(1);
    }
  });
});

describe('folderDataSet', () => {
  function tree(root: string, rng: Rng): void {
    for (const d of ['a/b', 'c', 'd']) mkdirSync(join(root, d), { recursive: true });
    for (const p of ['z.png', 'a/y.png', 'a/b/x.png', 'a.png', 'd/e.PNG']) writeFileSync(join(root, p), rgbaPng(4, 4, randomRGBA(rng, 4, 4)));
    writeFileSync(join(root, 'c/readme.txt'), 'not an image');
  }

  it('lists images recursively in a deterministic order; the split depends on the relative path only', () => {
    const r1 = tempDir(), r2 = tempDir();
    tree(r1, new Rng(1));
    tree(r2, new Rng(2));
    const a = folderDataSet(r1), b = folderDataSet(r2);
    expect(a.items.map((i) => i.key)).toEqual(['a/b/x.png', 'a/y.png', 'a.png', 'd/e.PNG', 'z.png']);
    expect(b.items.map((i) => i.key)).toEqual(a.items.map((i) => i.key));
    expect(b.items.map((i) => i.heldout)).toEqual(a.items.map((i) => i.heldout));
    for (const it of a.items) {
      expect(it.path).toBe(join(r1, it.key));
      expect(it.heldout).toBe(isHeldout(it.key));
    }
    expect(() => folderDataSet(join(r1, 'missing'))).toThrow(/does not exist/);
    expect(() => folderDataSet(join(r1, 'z.png'))).toThrow(/not a folder/);
    expect(() => folderDataSet(join(r1, 'c'))).toThrow(/no \.png or \.jpg/);
  });

  it('held-out: FNV-1a of the key, about 5%, stable, and different keys split differently', () => {
    expect(hash32('')).toBe(0x811c9dc5);
    expect(hash32('a')).toBe(0xe40c292c);
    expect(hash32('foobar')).toBe(0xbf9cf968);
    const keys = Array.from({ length: 2000 }, (_, i) => `class${i % 7}/img_${i}.png`);
    const held = keys.filter(isHeldout);
    expect(held.length / keys.length).toBeGreaterThan(0.03);
    expect(held.length / keys.length).toBeLessThan(0.07);
    expect(keys.filter(isHeldout)).toEqual(held);
    // The same file name under another folder is a different key.
    const moved = held.map((k) => `other/${k}`).filter(isHeldout);
    expect(moved.length).toBeLessThan(held.length / 2);
    const s = syntheticDataSet(200);
    expect(s.items.filter((i) => i.heldout).map((i) => i.key)).toEqual(s.items.map((i) => i.key).filter(isHeldout));
  });
});

describe('augmentInto', () => {
  it('mirrors, then moves by (dx, dy) with white coming in; the identity copies', () => {
    const size = 3, n = size * size;
    const src = Float32Array.from({ length: 3 * n }, (_, i) => i / (3 * n) - 0.5); // distinct values
    const at = (img: Float32Array, c: number, y: number, x: number) => img[c * n + y * size + x];
    const run = (a: { flip: boolean; dx: number; dy: number }) => {
      const out = new Float32Array(3 * n + 5).fill(-7);
      augmentInto(src, size, out, 5, a);
      expect(Array.from(out.subarray(0, 5))).toEqual([-7, -7, -7, -7, -7]);
      return out.subarray(5);
    };
    expect(Array.from(run({ flip: false, dx: 0, dy: 0 }))).toEqual(Array.from(src));
    const f = run({ flip: true, dx: 0, dy: 0 });
    const m = run({ flip: true, dx: 1, dy: -1 });
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          expect(at(f, c, y, x)).toBe(at(src, c, y, size - 1 - x));
          // out(y, x) = flipped(y + 1, x − 1): white where that falls outside
          const inside = y + 1 < size && x - 1 >= 0;
          expect(at(m, c, y, x)).toBe(inside ? at(src, c, y + 1, size - 1 - (x - 1)) : 1);
        }
  });
});

describe('ImageLoader', () => {
  function folder(good: number): string {
    const root = tempDir();
    const rng = new Rng(9);
    for (let i = 0; i < good; i++) writeFileSync(join(root, `img${i}.png`), rgbaPng(6 + (i % 3), 6, randomRGBA(rng, 6 + (i % 3), 6)));
    writeFileSync(join(root, 'empty.png'), new Uint8Array(0));
    writeFileSync(join(root, 'notes.png'), 'plain text');
    return root;
  }

  it('skips bad files with one warning each; strict throws', () => {
    const data = folderDataSet(folder(5));
    const warned: string[] = [];
    const loader = new ImageLoader(data, { size: 4, batch: 3, split: 'all', onBadFile: (p, why) => warned.push(`${p}: ${why}`) });
    const seen = new Set<string>();
    for (let b = 0; b < 6; b++) {
      const batch = loader.next();
      expect(batch.images.length).toBe(3 * 3 * 4 * 4);
      expect(batch.items.length).toBe(3);
      for (const it of batch.items) seen.add(it.key);
      for (const v of batch.images) expect(v >= -1 && v <= 1).toBe(true);
    }
    expect([...seen].sort()).toEqual(['img0.png', 'img1.png', 'img2.png', 'img3.png', 'img4.png']);
    expect(warned.length).toBe(2);
    expect(warned.some((w) => /empty\.png.*empty file/.test(w))).toBe(true);
    expect(warned.some((w) => /notes\.png.*not a PNG/.test(w))).toBe(true);
    expect([...loader.epoch()].reduce((n, b) => n + b.items.length, 0)).toBe(5);
    const strict = new ImageLoader(data, { size: 4, batch: 7, split: 'all', strict: true });
    expect(() => strict.next()).toThrow(/strict/);
    // Every file bad: a clear error rather than an endless loop.
    const allBad = tempDir();
    writeFileSync(join(allBad, 'x.png'), 'nope');
    expect(() => new ImageLoader(folderDataSet(allBad), { size: 4, batch: 2, split: 'all', onBadFile: () => {} }).next()).toThrow(/failed to load/);
  });

  it('resumes the same batch stream from its state (shuffled epochs, flips)', () => {
    const data = folderDataSet(folder(9));
    const opts = { size: 4, batch: 4, split: 'train' as const, seed: 3, flip: true, onBadFile: () => {} };
    const a = new ImageLoader(data, opts);
    for (let i = 0; i < 3; i++) a.next();
    const saved = JSON.parse(JSON.stringify(a.state));
    const rest = Array.from({ length: 5 }, () => a.next());
    const b = new ImageLoader(data, opts);
    b.setState(saved);
    const again = Array.from({ length: 5 }, () => b.next());
    expect(again.map((x) => x.items.map((i) => i.key))).toEqual(rest.map((x) => x.items.map((i) => i.key)));
    again.forEach((x, i) => expect(Array.from(x.images)).toEqual(Array.from(rest[i].images)));
    // A different seed gives a different stream.
    const c = new ImageLoader(data, { ...opts, seed: 4 });
    const other = Array.from({ length: 8 }, () => c.next().items.map((i) => i.key).join());
    const first = new ImageLoader(data, opts);
    expect(Array.from({ length: 8 }, () => first.next().items.map((i) => i.key).join())).not.toEqual(other);
  });

  it('shifts: each image moved by at most `shift` pixels with white fill, deterministic per (seed, epoch, image)', () => {
    const data = folderDataSet(folder(6));
    const base = { size: 4, batch: 6, split: 'all' as const, seed: 5, onBadFile: () => {} };
    const plain = new ImageLoader(data, base).next();
    const [s1, s2] = [0, 1].map(() => new ImageLoader(data, { ...base, shift: 1 }).next());
    expect(Array.from(s2.images)).toEqual(Array.from(s1.images));
    expect(s1.items.map((i) => i.key)).toEqual(plain.items.map((i) => i.key));
    const per = 3 * 16;
    let moved = 0;
    for (let k = 0; k < 6; k++) {
      const src = plain.images.subarray(k * per, (k + 1) * per), got = s1.images.subarray(k * per, (k + 1) * per);
      // one of the 9 shifts in [-1, 1]² reproduces the loaded image
      const matches = [-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => {
        const want = new Float32Array(per);
        augmentInto(src, 4, want, 0, { flip: false, dx, dy });
        return Array.from(want).every((v, i) => v === got[i]) ? [dx, dy] : null;
      })).filter((m) => m);
      expect(matches.length, `image ${k}`).toBeGreaterThanOrEqual(1);
      if (!(matches[0]![0] === 0 && matches[0]![1] === 0)) moved++;
    }
    expect(moved).toBeGreaterThan(0);
  });
});

describe('emoji data set', () => {
  it('has the 3786 Twemoji images with categories from emoji.json', () => {
    const ds = emojiDataSet();
    expect(ds.name).toBe('emoji');
    expect(ds.items.length).toBe(3786);
    const json = JSON.parse(readFileSync(join(ds.root, '..', '..', '..', 'emoji.json'), 'utf8')) as { image: string; category: string }[];
    const cats = [...new Set(json.map((e) => e.category))].sort();
    // categories with fewer than MIN_CLASS_IMAGES images (Component: 5 skin-tone swatches) are dropped
    expect(ds.labels).toEqual(cats.filter((c) => c !== 'Component'));
    expect(ds.dropped).toEqual([{ name: 'Component', count: 5 }]);
    const grin = ds.items.find((i) => i.key === '1f600.png')!;
    expect(ds.labels[grin.label]).toBe(json.find((e) => e.image === '1f600.png')!.category);
    const labelled = ds.items.filter((i) => i.label >= 0).length;
    expect(labelled / ds.items.length).toBeGreaterThan(0.99);
    const held = ds.items.filter((i) => i.heldout).length;
    expect(held).toBeGreaterThan(100);
    expect(held).toBeLessThan(300);
    const img = decodeImage(readFileSync(grin.path), grin.key);
    expect([img.width, img.height]).toEqual([64, 64]);
  });
});
