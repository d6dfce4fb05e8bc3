// How token caches and priors name the tokenizer checkpoint they came from (a cache or prior made
// with another tokenizer is refused or warned about).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export function fileChecksum(path: string): string {
  return checksumOf(readFileSync(path));
}

/** sha256 of the bytes, its first 16 hex digits: how caches and priors name a tokenizer checkpoint. */
export function checksumOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/**
 * A tokenizer checkpoint's identity, as token caches and priors name it: for a decoder-only run
 * (`train-tokenizer --encoder-from`), the identity of the tokenizer whose encoder and codebook it
 * keeps (config "tokens": the same tokens, so the same caches and priors); else the checksum of the
 * training checkpoint it was exported from (`export-run` stores it as metadata "source_checksum":
 * the shipped f16 copy is the same tokenizer to the priors trained on its tokens); else the
 * file's own checksum.
 */
export function checkpointChecksum(path: string): string {
  const bytes = readFileSync(path);
  try {
    const n = Number(Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0));
    const meta = (JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8')) as { __metadata__?: Record<string, string> }).__metadata__;
    const tokens = meta?.config ? (JSON.parse(meta.config) as { tokens?: { checksum?: unknown } }).tokens : undefined;
    if (typeof tokens?.checksum === 'string') return tokens.checksum;
    if (meta?.source_checksum) return meta.source_checksum;
  } catch {
    // not parseable here: the loader reports it; the file's checksum names it
  }
  return checksumOf(bytes);
}
