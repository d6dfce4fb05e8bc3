// A character-level language model on the transformer backbone: the engine's end-to-end check
// (used by `vqgpu demo` before the image pipeline exists, and by the tests). Browser-safe.

import { backward, noGrad } from '../autograd/tape.js';
import { runtime } from '../device/runtime.js';
import { Transformer } from '../models/transformer/transformer.js';
import type { TransformerConfig } from '../models/transformer/config.js';
import { manualSeed } from '../nn/init.js';
import { AdamW } from '../optim/adam.js';
import { warmupCosine } from '../optim/schedule.js';
import { crossEntropy } from '../ops/xent.js';
import { reshape, slice } from '../ops/layout.js';
import { tensor } from '../tensor/tensor.js';
import { keep, tidy } from '../tensor/scope.js';
import { sampleCategorical, Generator } from '../ops/random.js';
import type { Tensor } from '../tensor/tensor.js';

export interface CharLM {
  model: Transformer;
  vocab: string[];
  encode: (s: string) => number[];
  decode: (ids: ArrayLike<number>) => string;
}

export function buildCharLM(text: string, o: { dim?: number; layers?: number; heads?: number; seqLen?: number; seed?: number } = {}): CharLM {
  const vocab = [...new Set(text)].sort();
  const index = new Map(vocab.map((c, i) => [c, i]));
  manualSeed(o.seed ?? 0);
  const config: TransformerConfig = {
    kind: 'vqgpu-transformer', version: 1, vocabIn: vocab.length, vocabOut: vocab.length, seqLen: o.seqLen ?? 64,
    dim: o.dim ?? 64, layers: o.layers ?? 2, heads: o.heads ?? 4, mlpRatio: 4, dropout: 0, causal: true,
  };
  return {
    model: new Transformer(config),
    vocab,
    encode: (s) => [...s].map((c) => index.get(c) ?? 0),
    decode: (ids) => Array.from(ids, (i) => vocab[i] ?? '?').join(''),
  };
}

export interface TrainLog {
  step: number;
  loss: number;
}

/**
 * Trains on random windows of `text` (batch × seqLen) with AdamW and a warm-up + cosine schedule.
 * Reads the loss back only every `logEvery` steps.
 */
export async function trainCharLM(lm: CharLM, text: string, o: { steps: number; batch?: number; lr?: number; logEvery?: number; seed?: number; onLog?: (l: TrainLog) => void }): Promise<TrainLog[]> {
  const { model } = lm;
  const T = model.config.seqLen, B = o.batch ?? 16, logEvery = o.logEvery ?? 25;
  const ids = lm.encode(text);
  if (ids.length < T + 2) throw new Error(`trainCharLM: the text (${ids.length} chars) is shorter than a window (${T + 1}).`);
  const opt = new AdamW(model.parameters(), {
    lr: warmupCosine({ base: o.lr ?? 3e-3, warmupSteps: Math.min(50, Math.floor(o.steps / 10)), totalSteps: o.steps, min: 1e-4 }),
    weightDecay: 0.01, clipNorm: 1,
  });
  let seed = (o.seed ?? 1) >>> 0;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  const logs: TrainLog[] = [];
  let last: Tensor | null = null;
  for (let step = 1; step <= o.steps; step++) {
    const x = new Int32Array(B * T), y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const s = Math.floor(rand() * (ids.length - T - 1));
      for (let t = 0; t < T; t++) {
        x[b * T + t] = ids[s + t];
        y[b * T + t] = ids[s + t + 1];
      }
    }
    const loss = tidy(() => {
      const logits = model.forward(tensor(x, [B, T]));
      const l = crossEntropy(reshape(logits, [B * T, -1]), tensor(y, [B * T]));
      backward(l);
      opt.step();
      opt.zeroGrad();
      return l;
    });
    last?.dispose();
    last = keep(loss);
    await runtime().throttle();
    if (step % logEvery === 0 || step === o.steps) {
      const entry = { step, loss: await last!.item() };
      logs.push(entry);
      o.onLog?.(entry);
    }
  }
  last?.dispose();
  return logs;
}

/** Samples `n` characters after `prompt` with the key/value cache (one position per step). */
export async function sampleCharLM(lm: CharLM, prompt: string, n: number, temperature = 0.8, seed = 0): Promise<string> {
  const { model } = lm;
  const gen = new Generator(seed);
  const ids = lm.encode(prompt);
  if (ids.length === 0) throw new Error('sampleCharLM: the prompt must hold at least one character.');
  const total = Math.min(model.config.seqLen, ids.length + n);
  if (total <= ids.length) return lm.decode(ids); // nothing to add (n ≤ 0, or the prompt fills the context)
  const cache = model.newCache(1);
  const out = [...ids];
  try {
    let next = noGrad(() => tidy(() => {
      const logits = model.forwardCached(tensor(Int32Array.from(ids), [1, ids.length]), cache, 0);
      // only the prompt's last position predicts the first new character
      const lastRow = reshape(slice(logits, 1, ids.length - 1, ids.length), [1, -1]);
      return sampleCategorical(lastRow, gen, temperature).keepAlive();
    }));
    for (let pos = ids.length; pos < total; pos++) {
      const tok = await next.item();
      out.push(tok);
      next.dispose();
      if (pos + 1 >= total) break;
      next = noGrad(() => tidy(() => {
        const logits = model.forwardCached(tensor(Int32Array.of(tok), [1, 1]), cache, pos);
        return sampleCategorical(reshape(logits, [1, -1]), gen, temperature).keepAlive();
      }));
    }
  } finally {
    for (const c of cache) { c.k.dispose(); c.v.dispose(); }
  }
  return lm.decode(out);
}
