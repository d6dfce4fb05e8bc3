// The token cache: every item's token grid as uint16, plus a JSON header. Later stages read only
// this, never the images. Layout (little-endian):
//   magic "VQTOKENS" (8 bytes) | header length u32 | header JSON (UTF-8) | padding to 2 bytes |
//   tokens uint16 [items, grid, grid]
// The header: { version, codebook, grid, tokenizer: { checksum, step, path }, items: [{ key, split,
// label }], labels }. The reader treats the file as untrusted: every size is checked first.

export interface TokenCacheItem {
  key: string;
  split: 'train' | 'heldout';
  label: number;
}

export interface TokenCacheHeader {
  version: 1;
  codebook: number;
  grid: number;
  tokenizer: { checksum: string; step: number; path: string };
  labels: string[];
  items: TokenCacheItem[];
}

export interface TokenCache {
  header: TokenCacheHeader;
  /** [items, grid, grid] */
  tokens: Uint16Array;
}

const MAGIC = 'VQTOKENS';
const MAX_HEADER = 64 * 1024 * 1024;

export function encodeTokenCache(c: TokenCache): Uint8Array {
  const { header, tokens } = c;
  const n = header.items.length * header.grid * header.grid;
  if (tokens.length !== n) throw new Error(`token cache: ${tokens.length} tokens for ${header.items.length} items of ${header.grid}×${header.grid}.`);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = 12 + json.length + ((12 + json.length) % 2);
  const out = new Uint8Array(start + tokens.length * 2);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  const dv = new DataView(out.buffer, start);
  for (let i = 0; i < tokens.length; i++) dv.setUint16(2 * i, tokens[i], true);
  return out;
}

export function decodeTokenCache(bytes: Uint8Array, name = 'token cache'): TokenCache {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new Error(`${name} is not a token cache (made by \`vqgpu encode\`): the magic bytes are missing.`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(8, true);
  if (hlen > MAX_HEADER || 12 + hlen > bytes.length) throw new Error(`${name}: header length ${hlen} exceeds the file (${bytes.length} bytes).`);
  let header: TokenCacheHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
  } catch {
    throw new Error(`${name}: the header is not valid JSON.`);
  }
  if (!header || header.version !== 1 || !Array.isArray(header.items) || !Number.isInteger(header.grid) || !Number.isInteger(header.codebook)) {
    throw new Error(`${name}: the header lacks version 1, items, grid or codebook.`);
  }
  if (header.grid < 1 || header.grid > 1024 || header.codebook < 2 || header.codebook > 65536) {
    throw new Error(`${name}: grid ${header.grid} or codebook ${header.codebook} out of range.`);
  }
  const bad = header.items.findIndex(
    (it) => !it || typeof it.key !== 'string' || (it.split !== 'train' && it.split !== 'heldout') || !Number.isInteger(it.label),
  );
  if (bad >= 0) throw new Error(`${name}: item ${bad} of the header lacks a string key, a split ('train' or 'heldout') or an integer label.`);
  if (!Array.isArray(header.labels) || header.labels.some((l) => typeof l !== 'string')) {
    throw new Error(`${name}: the header's labels must be a list of strings.`);
  }
  const start = 12 + hlen + ((12 + hlen) % 2);
  const n = header.items.length * header.grid * header.grid;
  if (start + 2 * n !== bytes.length) {
    throw new Error(`${name}: ${header.items.length} items of ${header.grid}×${header.grid} need ${2 * n} token bytes; the file has ${bytes.length - start}.`);
  }
  const tokens = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const t = dv.getUint16(start + 2 * i, true);
    if (t >= header.codebook) throw new Error(`${name}: token ${t} at ${i} is outside the codebook (${header.codebook}).`);
    tokens[i] = t;
  }
  return { header, tokens };
}

/** The items of one split with their token grids (as i32 for the GPU). */
export function splitTokens(c: TokenCache, split: 'train' | 'heldout'): { tokens: Int32Array; labels: Int32Array; count: number } {
  const per = c.header.grid * c.header.grid;
  const idx = c.header.items.map((it, i) => (it.split === split ? i : -1)).filter((i) => i >= 0);
  const tokens = new Int32Array(idx.length * per);
  const labels = new Int32Array(idx.length);
  idx.forEach((i, k) => {
    tokens.set(c.tokens.subarray(i * per, (i + 1) * per), k * per);
    labels[k] = c.header.items[i].label;
  });
  return { tokens, labels, count: idx.length };
}
