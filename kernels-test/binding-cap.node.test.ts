// Tensors within the device's storage-binding limit: inference batches shrink so each activation
// fits one binding (inferenceBatch), with the same result as one large batch; a dispatch that would
// bind more throws one sentence naming the kernel. The limit is lowered by the runtime's binding
// cap (VQGPU_MAX_BINDING in a process) so these paths run on small shapes.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init, runtime } from '../src/device/runtime.js';
import { defaultTokenizerConfig, inferenceBatch, largestActivationBytes } from '../src/models/tokenizer/config.js';
import { VQVAE } from '../src/models/tokenizer/vqvae.js';
import { manualSeed } from '../src/nn/init.js';
import { decodeTokens } from '../src/models/tokenizer/decode-tokens.js';
import { embedding } from '../src/ops/embedding.js';
import { attentionDecode } from '../src/ops/attention-decode.js';
import { tensor } from '../src/tensor/tensor.js';
import { Rng } from './reference.js';

beforeAll(async () => {
  await init();
});
afterEach(() => {
  runtime().bindingCap = null;
});

describe('the storage-binding limit', () => {
  const cfg = defaultTokenizerConfig({ size: 16, grid: 4, codebook: 16, width: 8, codeDim: 4 });

  it('largestActivationBytes: the widest level, upsampled channels included', () => {
    // 16 → 4: two halvings, mult [1, 2], mid 2: level 0 at 16² holds max(8·1, 8·2 upsampled in) = 16 channels
    expect(cfg.mult).toEqual([1, 2]);
    expect(largestActivationBytes(cfg)).toBe(4 * 16 * 16 * 16);
    const patched = defaultTokenizerConfig({ size: 16, grid: 4, codebook: 16, width: 8, codeDim: 4, patch: 2 });
    expect(patched.mult).toEqual([1]);
    expect(largestActivationBytes(patched)).toBe(4 * 3 * 16 * 16); // 8 channels at 8²: the image itself is the largest
    expect(inferenceBatch(cfg, 64, 10 * 16384)).toBe(10);
    expect(inferenceBatch(cfg, 4, 10 * 16384)).toBe(4);
    expect(inferenceBatch(cfg, 64, 100)).toBe(1); // never below one image
  });

  it('decoding under a low cap runs in small batches and gives the same images', async () => {
    manualSeed(3);
    const model = new VQVAE(cfg);
    const rng = new Rng(5), n = 7;
    const tokens = Int32Array.from({ length: n * 16 }, () => rng.int(16));
    const whole = await decodeTokens(model, tokens, n);
    runtime().bindingCap = 2 * largestActivationBytes(cfg); // 2 images a batch
    expect(inferenceBatch(cfg, n, runtime().maxBindingBytes)).toBe(2);
    const chunked = await decodeTokens(model, tokens, n);
    expect(chunked).toEqual(whole);
    model.dispose();
  });

  it('a dispatch binding more than the cap throws, naming the kernel and the cap (an op that does not chunk)', async () => {
    // (every other op splits its work instead: binding-window.test.ts; the KV-cache decode step does not)
    const cache = tensor(new Float32Array(2 * 300 * 8), [1, 2, 300, 8]);
    const q = tensor(new Float32Array(2 * 8), [1, 2, 1, 8]);
    runtime().bindingCap = 4096; // bytes: the caches (19 KB each) are over it
    expect(() => attentionDecode(q, cache, cache, 300)).toThrow(/Kernel '.+' would bind a buffer of \d+ bytes, over the binding cap \(4096 bytes\)/);
    runtime().bindingCap = null;
    const out = attentionDecode(q, cache, cache, 300);
    expect((await out.toArray()).length).toBe(q.size);
    for (const t of [q, cache, out]) t.dispose();
  });

  it('an operand a chunked op binds whole (an embedding table over the cap): one sentence naming the op', () => {
    const table = tensor(new Float32Array(4096), [1024, 4]);
    const idx = tensor(Int32Array.from([0, 5, 7]), [3]);
    runtime().bindingCap = 4096; // bytes: the 16 KiB table is over it
    expect(() => embedding(idx, table)).toThrow(/^embedding: the operand \[1024, 4\] cannot be split to fit one storage binding of 4096 bytes \(it is bound whole\)/);
    for (const t of [table, idx]) t.dispose();
  });
});
