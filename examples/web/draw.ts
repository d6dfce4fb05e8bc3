// Pixels for the page: decoded image grids onto <canvas>, grey cells for tokens not known yet (AR
// rows still to come, masked positions of the mask prior), and animated GIFs of the reverse process.
// The grids are src/data/figure.ts canvases at the images' own size; CSS enlarges them (pixelated).

import * as gifenc from 'gifenc';
import { blank, imageGrid, upscale, type Canvas } from '../../src/data/figure.js';

export const GAP = 2;

export function gridCols(n: number): number {
  return Math.ceil(Math.sqrt(n));
}

/** An empty (white) grid of the size `imageGrid` gives for n images. */
export function emptyGrid(n: number, size: number): Canvas {
  const cols = gridCols(n), rows = Math.ceil(n / cols);
  return blank(cols * size + (cols + 1) * GAP, rows * size + (rows + 1) * GAP, 255);
}

/** images [n, 3, S, S] in [-1, 1] → a grid canvas, 3 images per row for n = 9. */
export function grid(images: Float32Array, n: number, size: number): Canvas {
  return imageGrid(images, n, size, gridCols(n), GAP, 1);
}

/**
 * Greys out the token cells for which `unknown(item, position)` holds (position in 0..G·G−1):
 * rows the AR prior has not drawn yet, positions the mask prior still masks.
 */
export function greyCells(c: Canvas, n: number, size: number, G: number, unknown: (b: number, i: number) => boolean): void {
  const cols = gridCols(n), cell = size / G;
  for (let b = 0; b < n; b++) {
    const x0 = GAP + (b % cols) * (size + GAP), y0 = GAP + Math.floor(b / cols) * (size + GAP);
    for (let i = 0; i < G * G; i++) {
      if (!unknown(b, i)) continue;
      const cx = x0 + (i % G) * cell, cy = y0 + Math.floor(i / G) * cell;
      for (let y = cy; y < cy + cell; y++) {
        for (let x = cx; x < cx + cell; x++) {
          const p = (y * c.width + x) * 4;
          // checkerboard of two greys: "not drawn yet", distinct from any white emoji background
          c.data.fill(((x >> 1) + (y >> 1)) % 2 ? 200 : 215, p, p + 3);
        }
      }
    }
  }
}

/** A red line across image `b` of the grid below token row `rows` (the end of a completion's prefix). */
export function markRows(c: Canvas, n: number, size: number, G: number, b: number, rows: number): void {
  const cols = gridCols(n);
  const x0 = GAP + (b % cols) * (size + GAP), y = GAP + Math.floor(b / cols) * (size + GAP) + (rows * size) / G;
  for (let x = x0; x < x0 + size; x++) c.data.set([230, 40, 40, 255], (Math.min(y, c.height - 1) * c.width + x) * 4);
}

export function paint(el: HTMLCanvasElement, c: Canvas): void {
  el.width = c.width;
  el.height = c.height;
  el.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(c.data), c.width, c.height), 0, 0);
}

/** An animated GIF of the frames, enlarged `scale` times (last frame held longer). */
export function encodeGif(frames: Canvas[], scale = 3, delayMs = 120, lastDelayMs = 2000): Uint8Array {
  // gifenc is CommonJS: depending on the bundler its exports arrive on the namespace or on `default`.
  const g = ((gifenc as { default?: typeof gifenc }).default ?? gifenc) as typeof gifenc;
  const gif = g.GIFEncoder();
  frames.forEach((f, i) => {
    const big = upscale(f, scale);
    const palette = g.quantize(big.data, 256);
    gif.writeFrame(g.applyPalette(big.data, palette), big.width, big.height, { palette, delay: i === frames.length - 1 ? lastDelayMs : delayMs });
  });
  gif.finish();
  return gif.bytes();
}

/** Offers bytes as a file download. */
export function download(bytes: Uint8Array, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
