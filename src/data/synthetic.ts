// A tiny synthetic image set drawn in code (tests need no files): item i is a coloured disc (even
// i) or bar (odd i) on white, with colour and position from i. Planar RGB in [-1, 1].

import type { Planar } from './image.js';

export function drawSynthetic(i: number, size: number): Planar {
  const n = size * size;
  const data = new Float32Array(3 * n).fill(1);
  const hue = (i * 0.61803398875) % 1;
  const rgb = [0, 1, 2].map((k) => 0.5 + 0.5 * Math.cos(2 * Math.PI * (hue + k / 3)));
  const cx = size * (0.3 + 0.4 * (((i * 7) % 11) / 10)), cy = size * (0.3 + 0.4 * (((i * 5) % 13) / 12));
  const r = size * (0.15 + 0.1 * ((i % 3) / 2));
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const inside = i % 2 === 0 ? (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 < r * r : Math.abs(x + 0.5 - cx) < r * 1.4 && Math.abs(y + 0.5 - cy) < r * 0.5;
      if (inside) for (let c = 0; c < 3; c++) data[c * n + y * size + x] = rgb[c] * 2 - 1;
    }
  return { size, data };
}
