// Figures as RGBA canvases (browser-safe): grids of images with a gutter, side-by-side panels.

import { toRGBA } from './image.js';

export interface Canvas {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export function blank(width: number, height: number, value = 255): Canvas {
  const data = new Uint8ClampedArray(width * height * 4).fill(value);
  return { width, height, data };
}

/** Copies `src` into `dst` at (x, y). */
export function blit(dst: Canvas, src: Canvas, x: number, y: number): void {
  for (let r = 0; r < src.height; r++) {
    const yy = y + r;
    if (yy < 0 || yy >= dst.height) continue;
    const from = r * src.width * 4;
    const w = Math.min(src.width, dst.width - x);
    dst.data.set(src.data.subarray(from, from + w * 4), (yy * dst.width + x) * 4);
  }
}

/** Nearest-neighbour enlargement (figures of 32×32 images are unreadable otherwise). */
export function upscale(c: Canvas, k: number): Canvas {
  if (k === 1) return c;
  const out = blank(c.width * k, c.height * k);
  for (let y = 0; y < out.height; y++)
    for (let x = 0; x < out.width; x++) {
      const s = (Math.floor(y / k) * c.width + Math.floor(x / k)) * 4;
      out.data.set(c.data.subarray(s, s + 4), (y * out.width + x) * 4);
    }
  return out;
}

/** A grid of planar images ([n, 3, S, S] in [-1, 1]), `cols` per row, `gap` pixels apart. */
export function imageGrid(images: Float32Array, n: number, size: number, cols: number, gap = 2, scale = 1): Canvas {
  const rows = Math.ceil(n / cols);
  const s = size * scale;
  const out = blank(cols * s + (cols + 1) * gap, rows * s + (rows + 1) * gap);
  for (let i = 0; i < n; i++) {
    const tile = upscale({ width: size, height: size, data: toRGBA(images, size, i * 3 * size * size) }, scale);
    blit(out, tile, gap + (i % cols) * (s + gap), gap + Math.floor(i / cols) * (s + gap));
  }
  return out;
}

/** Panels side by side (or stacked), separated by `gap` white pixels. */
export function joinPanels(panels: Canvas[], direction: 'row' | 'column' = 'row', gap = 8): Canvas {
  const w = direction === 'row' ? panels.reduce((a, p) => a + p.width, 0) + gap * (panels.length - 1) : Math.max(...panels.map((p) => p.width));
  const h = direction === 'row' ? Math.max(...panels.map((p) => p.height)) : panels.reduce((a, p) => a + p.height, 0) + gap * (panels.length - 1);
  const out = blank(w, h);
  let at = 0;
  for (const p of panels) {
    if (direction === 'row') blit(out, p, at, 0);
    else blit(out, p, 0, at);
    at += (direction === 'row' ? p.width : p.height) + gap;
  }
  return out;
}
