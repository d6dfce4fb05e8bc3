// The safetensors format (https://github.com/huggingface/safetensors), browser-safe:
//
//   [8 bytes: N, u64 little-endian] [N bytes: JSON header, UTF-8, space-padded] [byte buffer]
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end)} with offsets
// relative to the start of the byte buffer; the optional "__metadata__" entry maps strings to
// strings. Tensors are little-endian, row-major, and together cover the byte buffer exactly (no
// gaps, no overlap). We pad the header so the byte buffer starts at a multiple of 8.
//
// decodeSafetensors treats its input as untrusted: every size is checked against the file before
// anything is allocated from it, and every refusal is an Error saying what is wrong.

export type SafetensorsDType =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'I16' | 'U16' | 'F16' | 'BF16'
  | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

/** Bytes per element of each dtype the spec defines. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  F64: 8, I64: 8, U64: 8,
};

export type HostData =
  | Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array
  | Int8Array | Uint8Array | BigInt64Array | BigUint64Array;

export interface HostTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** row-major elements; F16/BF16 as raw Uint16Array bits, BOOL/F8 as Uint8Array */
  data: HostData;
}

export interface DecodedSafetensors {
  /** in the order of their offsets in the file */
  tensors: Record<string, HostTensor>;
  metadata: Record<string, string>;
}

/** Refuses headers larger than this (the reference implementation's limit too). */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** obj[key] = value, safe for hostile keys such as '__proto__'. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function elementCount(shape: readonly number[], what: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`${what}: shape [${shape.join(', ')}] has a dimension that is not a non-negative integer.`);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new Error(`${what}: shape [${shape.join(', ')}] has too many elements.`);
  }
  return n;
}

/** A typed view of `bytes` for `dtype` (copied when unaligned, so the result is always usable). */
function typedView(dtype: SafetensorsDType, bytes: Uint8Array): HostData {
  const size = DTYPE_BYTES[dtype];
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset, byteLength } = aligned;
  const n = byteLength / size;
  switch (dtype) {
    case 'F32': return new Float32Array(buffer, byteOffset, n);
    case 'F64': return new Float64Array(buffer, byteOffset, n);
    case 'I32': return new Int32Array(buffer, byteOffset, n);
    case 'U32': return new Uint32Array(buffer, byteOffset, n);
    case 'I16': return new Int16Array(buffer, byteOffset, n);
    case 'U16': case 'F16': case 'BF16': return new Uint16Array(buffer, byteOffset, n);
    case 'I8': return new Int8Array(buffer, byteOffset, n);
    case 'I64': return new BigInt64Array(buffer, byteOffset, n);
    case 'U64': return new BigUint64Array(buffer, byteOffset, n);
    default: return new Uint8Array(buffer, byteOffset, n);
  }
}

/**
 * Serialises `tensors` (laid out in the record's key order) and optional string metadata.
 * Assumes a little-endian host (every WebGPU platform is).
 */
export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`encodeSafetensors: metadata '${k}' must be a string (JSON-encode structured values).`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === METADATA_KEY) throw new Error(`encodeSafetensors: '${METADATA_KEY}' is reserved and cannot name a tensor.`);
    if (!isDType(t.dtype)) throw new Error(`encodeSafetensors: tensor '${name}' has unknown dtype '${String(t.dtype)}'.`);
    const n = elementCount(t.shape, `encodeSafetensors: tensor '${name}'`);
    const bytes = n * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== bytes) {
      throw new Error(`encodeSafetensors: tensor '${name}' ${t.dtype}[${t.shape.join(', ')}] needs ${bytes} bytes, its data has ${t.data.byteLength}.`);
    }
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, bytes));
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen); // space padding, as the spec allows
  let at = 8 + headerLen;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, v: unknown): Entry {
  const what = `safetensors: tensor '${name}'`;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what}: header entry is not an object.`);
  const { dtype, shape, data_offsets: offs } = v as Record<string, unknown>;
  if (!isDType(dtype)) throw new Error(`${what}: unknown dtype '${String(dtype)}'.`);
  if (!Array.isArray(shape)) throw new Error(`${what}: 'shape' is not an array.`);
  if (!Array.isArray(offs) || offs.length !== 2) throw new Error(`${what}: 'data_offsets' is not a [begin, end] pair.`);
  const [begin, end] = offs as unknown[];
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || (begin as number) < 0 || (end as number) < 0) {
    throw new Error(`${what}: 'data_offsets' must be non-negative integers, got [${String(begin)}, ${String(end)}].`);
  }
  if ((begin as number) > (end as number)) throw new Error(`${what}: data_offsets [${begin}, ${end}] are out of order (begin > end).`);
  const n = elementCount(shape as number[], what);
  const expected = n * DTYPE_BYTES[dtype];
  if ((end as number) - (begin as number) !== expected) {
    throw new Error(`${what}: ${dtype}[${(shape as number[]).join(', ')}] needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${(end as number) - (begin as number)}.`);
  }
  return { name, dtype, shape: [...(shape as number[])], begin: begin as number, end: end as number };
}

/**
 * Parses a safetensors file. Tensor data are views into `bytes` where aligned (copies otherwise):
 * keep `bytes` unchanged while using them. Throws an Error naming the problem for any malformed input.
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) throw new Error('safetensors: expected a Uint8Array.');
  if (bytes.length < 8) throw new Error(`safetensors: file of ${bytes.length} bytes is too short for the 8-byte header length.`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw new Error(`safetensors: header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit.`);
  const headerLen = Number(n64);
  if (8 + headerLen > bytes.length) throw new Error(`safetensors: header length ${headerLen} runs past the end of the ${bytes.length}-byte file.`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    throw new Error('safetensors: header is not valid UTF-8.');
  }
  if (!text.startsWith('{')) throw new Error("safetensors: header does not start with '{'.");
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new Error(`safetensors: header is not valid JSON (${(e as Error).message}).`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new Error('safetensors: header is not a JSON object.');

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('safetensors: __metadata__ is not an object.');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') throw new Error(`safetensors: __metadata__ value '${k}' is not a string.`);
        setOwn(metadata, k, s);
      }
      continue;
    }
    entries.push(parseEntry(name, v));
  }

  // The tensors, sorted by offset, must tile the byte buffer exactly.
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of entries) {
    if (e.end > dataLen) throw new Error(`safetensors: tensor '${e.name}' data_offsets [${e.begin}, ${e.end}] run past the end of the ${dataLen}-byte data.`);
    if (e.begin < at) throw new Error(`safetensors: tensor '${e.name}' data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (which ends at ${at}).`);
    if (e.begin > at) throw new Error(`safetensors: gap in the data before tensor '${e.name}' (bytes ${at}..${e.begin} belong to no tensor).`);
    at = e.end;
  }
  if (at !== dataLen) throw new Error(`safetensors: ${dataLen - at} trailing bytes after the last tensor belong to no tensor.`);

  const tensors: Record<string, HostTensor> = {};
  for (const e of entries) {
    const data = typedView(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end));
    setOwn(tensors, e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}
