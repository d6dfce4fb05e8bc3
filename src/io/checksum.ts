// How token caches and priors name the tokenizer checkpoint they came from, browser-safe: the first
// 16 hex digits of the SHA-256 of its bytes (Web Crypto, in browsers, workers and Node alike). The
// CLI's synchronous twin (node:crypto) is src/node/checksum.ts; the page's Train view names the
// tokenizer it trained with this, so `vqgpu sample` finds the prior and the downloaded tokenizer matching.

export async function checksumOfBytes(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}
