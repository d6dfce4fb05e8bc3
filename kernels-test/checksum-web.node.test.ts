// The page names the tokenizer its prior was trained on with Web Crypto (src/io/checksum.ts); the
// CLI with node:crypto (src/node/checksum.ts). `vqgpu sample` compares the two, so they must agree.

import { describe, expect, it } from 'vitest';
import { checksumOfBytes } from '../src/io/checksum.js';
import { checksumOf } from '../src/node/checksum.js';

describe('checksumOfBytes (Web Crypto) equals the CLI checksumOf (node:crypto)', () => {
  it('on empty, small and odd-sized buffers, and a sub-array view', async () => {
    const big = new Uint8Array(100_003).map((_, i) => (i * 2654435761) >>> 24);
    // (the view: Web Crypto must digest its bytes, not its whole buffer)
    for (const b of [new Uint8Array(0), new TextEncoder().encode('vqgpu'), big, big.subarray(17, 5000)]) expect(await checksumOfBytes(b)).toBe(checksumOf(b));
    expect(await checksumOfBytes(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea'); // SHA-256("abc")
  });
});
