// Image preprocessing shared by Node and the browser. An image here is RGB float in [-1, 1], planar
// (CHW), which is the layout the convolution kernels take ([N, 3, H, W] batches).

/** Largest side accepted; larger files are skipped as "huge". */
export const MAX_SIDE = 8192;

/** The file names data sets take: PNG and JPEG. */
export function isImageName(name: string): boolean {
  return /\.(png|jpe?g)$/i.test(name);
}

export interface RGBA {
  width: number;
  height: number;
  /** 8-bit RGBA, row-major (what pngjs, jpeg-js and canvas give) */
  data: Uint8Array | Uint8ClampedArray;
}

/** Planar RGB in [-1, 1]: data[c·H·W + y·W + x]. */
export interface Planar {
  size: number;
  data: Float32Array;
}

/** Composites on white (transparent emoji edges become white, not black). Returns RGB floats in [0, 1], interleaved. */
export function compositeOnWhite(img: RGBA): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = img.data[4 * i + 3] / 255;
    for (let c = 0; c < 3; c++) out[3 * i + c] = (img.data[4 * i + c] / 255) * a + (1 - a);
  }
  return out;
}

/**
 * Centre-crops to a square and resizes to size×size with an area (box) filter: each output pixel
 * averages the input area it covers, with fractional weights at the edges (no aliasing when
 * shrinking; bilinear-like when enlarging is not needed for our data). Input: interleaved RGB floats.
 */
export function cropResize(rgb: Float32Array, width: number, height: number, size: number): Float32Array {
  const side = Math.min(width, height);
  const x0 = (width - side) / 2, y0 = (height - side) / 2;
  const scale = side / size;
  const out = new Float32Array(size * size * 3);
  // Separable box filter: per output coordinate, the list of (input index, weight).
  const taps = (offset: number, limit: number) =>
    Array.from({ length: size }, (_, o) => {
      const lo = offset + o * scale, hi = lo + scale;
      const list: [number, number][] = [];
      for (let i = Math.floor(lo); i < Math.ceil(hi); i++) {
        const w = Math.min(hi, i + 1) - Math.max(lo, i);
        if (w > 1e-9) list.push([Math.min(Math.max(i, 0), limit - 1), w / scale]);
      }
      return list;
    });
  const tx = taps(x0, width), ty = taps(y0, height);
  for (let oy = 0; oy < size; oy++)
    for (let ox = 0; ox < size; ox++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (const [iy, wy] of ty[oy]) for (const [ix, wx] of tx[ox]) s += wy * wx * rgb[3 * (iy * width + ix) + c];
        out[3 * (oy * size + ox) + c] = s;
      }
  return out;
}

/** Interleaved RGB [0, 1] → planar [-1, 1]. */
export function toPlanar(rgb: Float32Array, size: number): Planar {
  const n = size * size;
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[c * n + i] = rgb[3 * i + c] * 2 - 1;
  return { size, data };
}

/** The full preprocessing of one decoded image. */
export function preprocess(img: RGBA, size: number): Planar {
  return toPlanar(cropResize(compositeOnWhite(img), img.width, img.height, size), size);
}

/** Mirror left–right, in place into `out` (planar). */
/**
 * Planar [3, size, size] → out at outOffset, mirrored left-right when `flip`, then moved by (dx, dy)
 * pixels (right, down); pixels moved in from outside are white (1), the background images are
 * composited on.
 */
export function augmentInto(src: Float32Array, size: number, out: Float32Array, outOffset: number, a: { flip: boolean; dx: number; dy: number }): void {
  const n = size * size;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++) {
      const sy = y - a.dy;
      for (let x = 0; x < size; x++) {
        const sx = a.flip ? size - 1 - (x - a.dx) : x - a.dx;
        out[outOffset + c * n + y * size + x] = sy >= 0 && sy < size && sx >= 0 && sx < size ? src[c * n + sy * size + sx] : 1;
      }
    }
}

/** Planar [-1, 1] → 8-bit RGBA (for PNG/GIF/canvas). */
export function toRGBA(planar: Float32Array, size: number, offset = 0): Uint8ClampedArray {
  const n = size * size;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = Math.round((planar[offset + c * n + i] + 1) * 127.5);
    out[4 * i + 3] = 255;
  }
  return out;
}
