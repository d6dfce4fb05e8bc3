// scripts/gif-frames.mjs (the GIF → PNG sheet used to look at every frame the samplers write):
// its decoder against the encoder the figures use (gifenc, as src/node/write-image.ts calls it),
// pixel for pixel on frames with many colours and long LZW strings (code sizes up to 12 bits).

import { describe, expect, it } from 'vitest';
import { GIFEncoder, applyPalette, quantize } from 'gifenc';
// @ts-expect-error: plain .mjs helpers without type declarations
import { decodeGif } from '../scripts/gif-frames.mjs';
import { Rng } from './reference.js';

describe('gif-frames', () => {
  it('decodes what the figures encoder wrote: every frame, every pixel', () => {
    const W = 37, H = 23, rng = new Rng(3);
    const frames: Uint8Array[] = [];
    for (let f = 0; f < 4; f++) {
      const d = new Uint8Array(W * H * 4);
      for (let i = 0; i < W * H; i++) {
        // runs of one colour (long LZW strings) mixed with noise (many codes: the table fills)
        const noisy = rng.uniform() < 0.5 || f === 3;
        const v = noisy ? Math.floor(rng.uniform() * 256) : (i >> 4) * 17 + f * 40;
        d.set([v & 255, (v * 7 + f) & 255, (v * 13) & 255, 255], i * 4);
      }
      frames.push(d);
    }
    const gif = GIFEncoder();
    const expected: Uint8Array[] = [];
    for (const d of frames) {
      const palette = quantize(d, 256);
      const index = applyPalette(d, palette);
      gif.writeFrame(index, W, H, { palette, delay: 100 });
      const e = new Uint8Array(W * H * 4);
      index.forEach((k: number, i: number) => e.set([palette[k][0], palette[k][1], palette[k][2], 255], i * 4));
      expected.push(e);
    }
    gif.finish();
    const got = decodeGif(Buffer.from(gif.bytes()));
    expect([got.width, got.height, got.frames.length]).toEqual([W, H, 4]);
    got.frames.forEach((fr: Uint8Array, f: number) => expect(Buffer.from(fr).equals(Buffer.from(expected[f])), `frame ${f}`).toBe(true));
  });

  it('refuses a file that is not a GIF', () => {
    expect(() => decodeGif(Buffer.from('\x89PNG\r\n\x1a\n0000000000'))).toThrow(/not a GIF/);
  });
});
