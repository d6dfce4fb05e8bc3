// The character-level language model (src/train/char-lm.ts), the engine's end-to-end check: a tiny
// model on a short repeated text must get far below the uniform loss ln(V), and greedy sampling
// through the key/value cache must then continue the text.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { buildCharLM, sampleCharLM, trainCharLM } from '../src/train/char-lm.js';

beforeAll(async () => {
  await vq.init();
});

const SENTENCE = 'the quick brown fox jumps over the lazy dog; ';
const TEXT = SENTENCE.repeat(12);

describe('char-lm', () => {
  it('learns a short text far below the uniform loss, and greedy sampling continues it', async () => {
    const lm = buildCharLM(TEXT, { dim: 32, layers: 1, heads: 2, seqLen: 32, seed: 1 });
    const V = lm.vocab.length;
    expect(V).toBe(new Set(SENTENCE).size);
    expect(lm.decode(lm.encode(SENTENCE))).toBe(SENTENCE);
    const logs = await trainCharLM(lm, TEXT, { steps: 60, batch: 8, lr: 1e-2, logEvery: 20, seed: 3 });
    expect(logs.map((l) => l.step)).toEqual([20, 40, 60]);
    const info = `losses ${logs.map((l) => l.loss.toFixed(3)).join(' ')}, ln V = ${Math.log(V).toFixed(3)}`;
    // every character is determined by the few before it: the loss can approach 0
    expect(logs[logs.length - 1].loss, info).toBeLessThan(0.25 * Math.log(V));

    const prompt = 'the quick brown ';
    const out = await sampleCharLM(lm, prompt, 16, 0); // temperature 0: greedy
    expect(out.length).toBe(prompt.length + 16);
    expect(out.startsWith(prompt)).toBe(true);
    const want = TEXT.slice(0, out.length);
    let same = 0;
    for (let i = prompt.length; i < out.length; i++) if (out[i] === want[i]) same++;
    expect(same, `greedy continuation '${out}'`).toBeGreaterThanOrEqual(14);
    for (const p of lm.model.parameters()) p.dispose();
  });
});
