// The token cache file format (src/data/token-cache.ts): round trip, splits, malformed files
// refused with clear errors, and a seeded fuzz of byte mutations that may only ever raise our
// own Error (never a TypeError/RangeError from a half-parsed file).

import { describe, expect, it } from 'vitest';
import { decodeTokenCache, encodeTokenCache, splitTokens, type TokenCache } from '../src/data/token-cache.js';
import { Rng } from './reference.js';

function sample(items: number, grid: number, codebook: number, seed = 1): TokenCache {
  const rng = new Rng(seed);
  return {
    header: {
      version: 1, codebook, grid,
      tokenizer: { checksum: 'abc123', step: 4000, path: 'runs/tok/step-004000.safetensors' },
      labels: ['disc', 'bar', 'émoji ✓'],
      items: Array.from({ length: items }, (_, i) => ({ key: `img/${i}.png`, split: i % 4 === 1 ? 'heldout' : 'train', label: i % 3 })),
    },
    tokens: Uint16Array.from({ length: items * grid * grid }, () => rng.int(codebook)),
  };
}

/** The file with its header replaced by `header` (any JSON text), tokens kept. */
function withHeader(bytes: Uint8Array, header: string, tokenBytes: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(header);
  const start = 12 + json.length + ((12 + json.length) % 2);
  const out = new Uint8Array(start + tokenBytes.length);
  out.set(bytes.subarray(0, 8), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(tokenBytes, start);
  return out;
}

function tokenBytes(bytes: Uint8Array, c: TokenCache): Uint8Array {
  return bytes.subarray(bytes.length - 2 * c.tokens.length);
}

describe('token cache', () => {
  it('round-trips header and tokens (odd and even header lengths, the full uint16 range)', () => {
    for (const [items, grid, K] of [[5, 4, 16], [1, 1, 2], [3, 8, 65536], [0, 2, 10]] as const) {
      const c = sample(items, grid, K, items + grid);
      if (K === 65536 && items) c.tokens[0] = 65535;
      for (const pad of ['', 'x']) {
        const cc = { ...c, header: { ...c.header, tokenizer: { ...c.header.tokenizer, path: c.header.tokenizer.path + pad } } };
        const bytes = encodeTokenCache(cc);
        // An offset view (as a Node Buffer slice would be) decodes the same.
        const shifted = new Uint8Array(bytes.length + 3);
        shifted.set(bytes, 3);
        for (const b of [bytes, shifted.subarray(3)]) {
          const d = decodeTokenCache(b, 'x.tokens');
          expect(d.header).toEqual(cc.header);
          expect(Array.from(d.tokens)).toEqual(Array.from(c.tokens));
        }
      }
    }
  });

  it('splitTokens returns one split as i32 with its labels', () => {
    const c = sample(6, 2, 16);
    const heldout = splitTokens(c, 'heldout');
    expect(heldout.count).toBe(2); // items 1 and 5
    expect(Array.from(heldout.labels)).toEqual([1, 2]);
    expect(heldout.tokens).toBeInstanceOf(Int32Array);
    expect(Array.from(heldout.tokens)).toEqual([...c.tokens.subarray(4, 8), ...c.tokens.subarray(20, 24)]);
    const train = splitTokens(c, 'train');
    expect(train.count).toBe(4);
    expect(train.tokens.length).toBe(16);
  });

  it('refuses malformed files with clear errors', () => {
    const c = sample(3, 2, 8);
    const good = encodeTokenCache(c);
    const toks = tokenBytes(good, c);
    const h = (o: object) => JSON.stringify({ ...c.header, ...o });
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /not a token cache/],
      ['bad magic', Uint8Array.from(good, (v, i) => (i === 0 ? 0x58 : v)), /not a token cache.*magic/],
      ['header length past the end', (() => { const b = Uint8Array.from(good); new DataView(b.buffer).setUint32(8, good.length, true); return b; })(), /header length .* exceeds the file/],
      ['huge header length', (() => { const b = Uint8Array.from(good); new DataView(b.buffer).setUint32(8, 0xffffffff, true); return b; })(), /exceeds the file/],
      ['non-JSON header', withHeader(good, '{"version": 1, items: [', toks), /not valid JSON/],
      ['JSON null', withHeader(good, 'null', toks), /lacks version 1/],
      ['version 2', withHeader(good, h({ version: 2 }), toks), /lacks version 1/],
      ['items not a list', withHeader(good, h({ items: 'abc' }), toks), /lacks version 1/],
      ['grid 0', withHeader(good, h({ grid: 0 }), new Uint8Array(0)), /out of range/],
      ['codebook 1', withHeader(good, h({ codebook: 1 }), toks), /out of range/],
      ['bad item', withHeader(good, h({ items: [null, ...c.header.items.slice(1)] }), toks), /item 0/],
      ['bad split', withHeader(good, h({ items: [{ key: 'a', split: 'test', label: 0 }, ...c.header.items.slice(1)] }), toks), /item 0/],
      ['labels not strings', withHeader(good, h({ labels: [1, 2] }), toks), /labels/],
      ['token ≥ codebook', (() => { const b = Uint8Array.from(good); new DataView(b.buffer).setUint16(b.length - 2, 8, true); return b; })(), /token 8 at 11 is outside the codebook \(8\)/],
      ['too few token bytes', good.subarray(0, good.length - 2), /need 24 token bytes; the file has 22/],
      ['trailing bytes', Uint8Array.from([...good, 0, 0]), /need 24 token bytes; the file has 26/],
    ];
    for (const [label, bytes, re] of cases) {
      let err: unknown = null;
      try {
        decodeTokenCache(bytes, 'cache.tokens');
      } catch (e) {
        err = e;
      }
      expect(err, label).toBeInstanceOf(Error);
      expect((err as Error).message, label).toMatch(/^cache\.tokens/);
      expect((err as Error).message, label).toMatch(re);
    }
    expect(() => encodeTokenCache({ ...c, tokens: c.tokens.subarray(1) })).toThrow(/11 tokens for 3 items of 2×2/);
  });

  it('fuzz: byte mutations either decode to a usable cache or raise our Error', () => {
    const rng = new Rng(77);
    const base = encodeTokenCache(sample(4, 3, 12));
    let refused = 0, accepted = 0;
    for (let trial = 0; trial < 400; trial++) {
      const b = Uint8Array.from(base);
      const edits = 1 + rng.int(4);
      for (let e = 0; e < edits; e++) {
        const at = rng.int(b.length);
        const kind = rng.int(3);
        if (kind === 0) b[at] = rng.int(256);
        else if (kind === 1) b[at] ^= 1 << rng.int(8);
        else b[at] = '{}[]":,0123456789'.charCodeAt(rng.int(17));
      }
      const cut = rng.int(10) === 0 ? rng.int(b.length) : b.length;
      try {
        const d = decodeTokenCache(b.subarray(0, cut), 'fuzz.tokens');
        // whatever decodes must be usable downstream
        const s = splitTokens(d, 'train');
        for (const t of d.tokens) expect(t).toBeLessThan(d.header.codebook);
        expect(s.tokens.length).toBe(s.count * d.header.grid * d.header.grid);
        accepted++;
      } catch (e) {
        if (!(e instanceof Error) || e.constructor !== Error || !e.message.startsWith('fuzz.tokens')) throw e;
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(50);
    expect(accepted).toBeGreaterThan(10);
  });
});
