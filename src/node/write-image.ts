// Writes figures: PNG (pngjs) and animated GIF (gifenc), atomically.

import { pngjs } from './cjs.js';
import type { Canvas } from '../data/figure.js';
import { writeFileAtomicSync } from './atomic-file.js';

/** Writes an RGBA canvas ({ width, height, data }, e.g. `ImageGenerator.grid(...)`) as a PNG file, atomically. */
export function writePng(path: string, c: Canvas): void {
  const { PNG } = pngjs();
  const png = new PNG({ width: c.width, height: c.height });
  png.data = Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
  writeFileAtomicSync(path, PNG.sync.write(png));
}

/** Writes canvases of one size as an animated GIF (256 colours per frame), `delayMs` apart, the last held `lastDelayMs`; atomically. */
export async function writeGif(path: string, frames: Canvas[], delayMs = 100, lastDelayMs = 1500): Promise<void> {
  // gifenc is CommonJS: under Node its exports arrive as the default export.
  const mod = (await import('gifenc')) as typeof import('gifenc') & { default?: typeof import('gifenc') };
  const { GIFEncoder, quantize, applyPalette } = mod.default ?? mod;
  const gif = GIFEncoder();
  // rgb444: the palette chosen from 4,096 colour bins, not 65,536 (rgb565): the frames decoded from
  // random tokens at a reverse process's start quantise ~10× faster, and smooth frames look the same.
  frames.forEach((f, i) => {
    const palette = quantize(f.data, 256, { format: 'rgb444' });
    const index = applyPalette(f.data, palette, 'rgb444');
    gif.writeFrame(index, f.width, f.height, { palette, delay: i === frames.length - 1 ? lastDelayMs : delayMs });
  });
  gif.finish();
  writeFileAtomicSync(path, gif.bytes());
}
