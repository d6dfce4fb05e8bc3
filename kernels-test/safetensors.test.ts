import { describe, expect, it } from 'vitest';
import { init } from '../src/device/runtime.js';
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES, type HostTensor } from '../src/io/safetensors.js';
import { configFromMetadata, loadSafetensorsInto, stateDictToSafetensors } from '../src/io/state.js';
import { manualSeed } from '../src/nn/init.js';
import { Linear } from '../src/nn/linear.js';
import { Sequential } from '../src/nn/sequential.js';
import { Rng } from './reference.js';

const ascii = (s: string) => new TextEncoder().encode(s);

/** A file from a raw header string (padded to 8 with spaces unless told otherwise) and data bytes. */
function rawFile(header: string, data: Uint8Array | number[] = [], lengthField?: bigint): Uint8Array {
  const h = ascii(header);
  const padded = Math.ceil(h.length / 8) * 8;
  const out = new Uint8Array(8 + padded + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(padded), true);
  out.set(h, 8);
  out.fill(0x20, 8 + h.length, 8 + padded);
  out.set(data, 8 + padded);
  return out;
}

describe('safetensors encode', () => {
  it('lays out a tiny file byte for byte as the spec says', () => {
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array([1, -2]) } });
    // {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} is 54 bytes: padded with 2 spaces to 56.
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  ';
    const expected = [
      56, 0, 0, 0, 0, 0, 0, 0, // header length, u64 little-endian
      ...ascii(header),
      0x00, 0x00, 0x80, 0x3f, // 1.0f
      0x00, 0x00, 0x00, 0xc0, // -2.0f
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  it('puts metadata first, tensors contiguous in key order, data start 8-aligned', () => {
    const bytes = encodeSafetensors(
      {
        w: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
        idx: { dtype: 'I32', shape: [3], data: new Int32Array([-1, 0, 7]) },
        empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
        h: { dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) },
      },
      { config: '{"d":8}' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(Object.keys(header)).toEqual(['__metadata__', 'w', 'idx', 'empty', 'h']);
    expect(header.w.data_offsets).toEqual([0, 24]);
    expect(header.idx.data_offsets).toEqual([24, 36]);
    expect(header.empty.data_offsets).toEqual([36, 36]);
    expect(header.h.data_offsets).toEqual([36, 38]);
    expect(bytes.length).toBe(8 + n + 38);

    const d = decodeSafetensors(bytes);
    expect(d.metadata).toEqual({ config: '{"d":8}' });
    expect(Array.from(d.tensors.w.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(d.tensors.w.shape).toEqual([2, 3]);
    expect(Array.from(d.tensors.idx.data as Int32Array)).toEqual([-1, 0, 7]);
    expect(d.tensors.empty.shape).toEqual([0, 4]);
    expect(d.tensors.h).toEqual({ dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) });
    expect(configFromMetadata(d)).toEqual({ d: 8 });
  });

  it('refuses inconsistent input', () => {
    expect(() => encodeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/needs 12 bytes, its data has 8/);
    expect(() => encodeSafetensors({ a: { dtype: 'X' as 'F32', shape: [1], data: new Float32Array(1) } })).toThrow(/unknown dtype 'X'/);
    expect(() => encodeSafetensors({}, { a: 1 as unknown as string })).toThrow(/metadata 'a' must be a string/);
  });
});

describe('safetensors decode refuses malformed files', () => {
  const f32 = (n: number) => new Uint8Array(4 * n);
  const cases: [string, Uint8Array, RegExp][] = [
    ['too short', new Uint8Array(5), /too short/],
    ['header length over the cap', rawFile('{}', [], 1n << 40n), new RegExp(`exceeds the ${MAX_HEADER_BYTES}-byte limit`)],
    ['header length past the end', rawFile('{}', [], 4096n), /runs past the end/],
    ['bad JSON', rawFile('{"a": {"dtype": "F32",'), /not valid JSON/],
    ['not an object', rawFile('[1, 2]'), /does not start with '\{'/],
    ['null header', rawFile('null'), /does not start/],
    ['invalid UTF-8', (() => { const f = rawFile('{"a":1}'); f[10] = 0xff; return f; })(), /not valid UTF-8/],
    ['entry not an object', rawFile('{"a": 3}'), /tensor 'a': header entry is not an object/],
    ['unknown dtype', rawFile('{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}', f32(1)), /unknown dtype 'F33'/],
    ['shape/size mismatch', rawFile('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', f32(2)), /needs 12 bytes but data_offsets \[0, 8\] span 8/],
    ['negative dimension', rawFile('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}'), /not a non-negative integer/],
    ['huge shape', rawFile('{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}', f32(1)), /too many elements/],
    ['offsets past the end', rawFile('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', f32(2)), /run past the end of the 8-byte data/],
    ['overlap', rawFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', f32(3)), /'b' data_offsets \[4, 12\] overlap/],
    ['out of order', rawFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}', f32(2)), /out of order/],
    ['gap', rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', f32(3)), /gap in the data before tensor 'b'/],
    ['trailing bytes', rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32(2)), /4 trailing bytes/],
    ['bad offsets', rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0.5,4]}}', f32(1)), /non-negative integers/],
    ['metadata not strings', rawFile('{"__metadata__":{"k":1}}'), /__metadata__ value 'k' is not a string/],
  ];
  for (const [name, bytes, msg] of cases) {
    it(name, () => {
      expect(() => decodeSafetensors(bytes)).toThrow(msg);
    });
  }

  it('a hostile "__proto__" name is an ordinary key', () => {
    const d = decodeSafetensors(rawFile('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', [9]));
    expect(Object.keys(d.tensors)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(d.tensors)).toBe(Object.prototype);
  });

  it('fuzz: mutated files decode consistently or throw an Error', () => {
    const rng = new Rng(1234);
    const tensors: Record<string, HostTensor> = {
      weight: { dtype: 'F32', shape: [3, 5], data: rng.array(15) },
      ids: { dtype: 'I32', shape: [4], data: new Int32Array([1, 2, 3, 4]) },
      flag: { dtype: 'U8', shape: [3], data: new Uint8Array([0, 1, 0]) },
    };
    const valid = encodeSafetensors(tensors, { config: '{"a":1}' });
    const headerEnd = 8 + Number(new DataView(valid.buffer).getBigUint64(0, true));
    let ok = 0, refused = 0;
    for (let iter = 0; iter < 400; iter++) {
      let f = valid.slice();
      const kind = rng.int(4);
      if (kind === 3) f = f.slice(0, rng.int(f.length)); // truncation
      else {
        for (let m = 0, n = 1 + rng.int(4); m < n; m++) {
          // mostly the header and the length field, where structure lives
          const at = rng.uniform() < 0.9 ? rng.int(headerEnd) : rng.int(f.length);
          f[at] = kind === 0 ? rng.int(256) : kind === 1 ? '0123456789[]{},:"'.charCodeAt(rng.int(17)) : f[at] ^ (1 << rng.int(8));
        }
      }
      let first;
      try {
        first = decodeSafetensors(f);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message).toMatch(/^safetensors: /);
        refused++;
        continue;
      }
      ok++;
      // A file that decodes covers its data exactly and decodes the same way again.
      const covered = Object.values(first.tensors).reduce((s, t) => s + t.data.byteLength, 0);
      expect(covered).toBe(f.length - (8 + Number(new DataView(f.buffer).getBigUint64(0, true))));
      const again = decodeSafetensors(f);
      expect(Object.keys(again.tensors)).toEqual(Object.keys(first.tensors));
    }
    expect(refused).toBeGreaterThan(100);
    expect(ok).toBeGreaterThan(0);
  });
});

describe('safetensors ⇄ GPU modules', () => {
  it('round-trips a module state dict with its config', async () => {
    await init();
    manualSeed(1);
    const a = new Sequential(new Linear(3, 5), (x) => x, new Linear(5, 2, false));
    manualSeed(2);
    const b = new Sequential(new Linear(3, 5), (x) => x, new Linear(5, 2, false));
    const bytes = await stateDictToSafetensors(a, { config: JSON.stringify({ hidden: 5 }) });
    const decoded = decodeSafetensors(bytes);
    expect(Object.keys(decoded.tensors)).toEqual(['0.weight', '0.bias', '2.weight']);
    expect(configFromMetadata(decoded)).toEqual({ hidden: 5 });
    expect(await b.stateDict()['0.weight'].toArray()).not.toEqual(await a.stateDict()['0.weight'].toArray());
    loadSafetensorsInto(b, decoded);
    for (const [k, t] of Object.entries(a.stateDict())) expect(await b.stateDict()[k].toArray()).toEqual(await t.toArray());

    // Problems are reported together, before anything is written.
    const c = new Sequential(new Linear(3, 4), (x) => x, new Linear(5, 2));
    expect(() => loadSafetensorsInto(c, decoded)).toThrow(
      /missing keys: '2.bias'\. shape\/dtype mismatches: '0.weight' is F32\[3, 5\] in the source, f32\[3, 4\] in the module; '0.bias' is F32\[5\]/,
    );
    loadSafetensorsInto({ '2.weight': c.stateDict()['2.weight'] }, decoded, { strict: false });
    expect(await c.stateDict()['2.weight'].toArray()).toEqual(await a.stateDict()['2.weight'].toArray());
    for (const m of [a, b, c]) m.dispose();
  });
});
