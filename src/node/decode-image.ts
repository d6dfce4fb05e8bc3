// Decoding image files (Node): PNG through pngjs (palette, grayscale, 16-bit and RGBA are all
// normalised to 8-bit RGBA by pngjs), JPEG through jpeg-js. Files are untrusted: sizes are checked
// from the header before any pixel buffer is allocated, and every failure is one clear Error.

import { jpegjs, pngjs } from './cjs.js';
import { MAX_SIDE, type RGBA } from '../data/image.js';

// (shared with the page, which decodes with the browser's own decoders)
export { isImageName, MAX_SIDE } from '../data/image.js';

function pngSize(b: Uint8Array): [number, number] | null {
  // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4)
  if (b.length < 24 || b[0] !== 0x89 || b[1] !== 0x50 || b[2] !== 0x4e || b[3] !== 0x47) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return [v.getUint32(16), v.getUint32(20)];
}

function jpegSize(b: Uint8Array): [number, number] | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1];
    const len = (b[i + 2] << 8) | b[i + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return [(b[i + 7] << 8) | b[i + 8], (b[i + 5] << 8) | b[i + 6]];
    }
    i += 2 + len;
  }
  return null;
}

/** Decodes PNG or JPEG bytes to 8-bit RGBA; throws an Error saying what is wrong. */
export function decodeImage(bytes: Uint8Array, name = 'image'): RGBA {
  if (bytes.length === 0) throw new Error(`${name}: empty file`);
  const png = pngSize(bytes);
  const jpg = png ? null : jpegSize(bytes);
  const dims = png ?? jpg;
  if (!dims) throw new Error(`${name}: not a PNG or JPEG file (or its header is truncated)`);
  const [w, h] = dims;
  if (w === 0 || h === 0) throw new Error(`${name}: image has zero size (${w}×${h})`);
  if (w > MAX_SIDE || h > MAX_SIDE) throw new Error(`${name}: image is huge (${w}×${h}, limit ${MAX_SIDE} per side)`);
  try {
    if (png) {
      const img = pngjs().PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: img.width, height: img.height, data: img.data };
    }
    const img = jpegjs().decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 70, maxMemoryUsageInMB: 1024 });
    return { width: img.width, height: img.height, data: img.data };
  } catch (e) {
    throw new Error(`${name}: cannot decode (${(e as Error).message.split('\n')[0]})`);
  }
}
