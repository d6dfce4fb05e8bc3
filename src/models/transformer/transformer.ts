// The transformer backbone: token + position embeddings → blocks → final norm → head.
//   tokens [B, T] i32 (T ≤ seqLen) → logits [B, T, vocabOut]
// Causal for the AR prior and the text demo; bidirectional for the diffusion priors. Decoding with
// a key/value cache runs one position (or a chunk) per call, never recomputing the prefix.

import { Embedding } from '../../nn/embedding.js';
import { normal } from '../../nn/init.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { LayerNorm } from '../../nn/norm.js';
import { zeros } from '../../ops/creation.js';
import { add } from '../../ops/elementwise.js';
import { fmt } from '../../ops/launch.js';
import { slice } from '../../ops/layout.js';
import { keep } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Block, type LayerCache } from './block.js';
import { checkTransformerConfig, type TransformerConfig } from './config.js';

export class Transformer extends Module {
  private tok: Embedding;
  /** [seqLen, dim] */
  private pos: Tensor;
  private blocks: Block[];
  private lnf: LayerNorm;
  private head: Linear;

  constructor(readonly config: TransformerConfig) {
    super();
    const c = checkTransformerConfig(config);
    this.tok = this.child('tok', new Embedding(c.vocabIn, c.dim, { std: 0.02 }));
    this.pos = this.param('pos', normal([c.seqLen, c.dim], 0, 0.02));
    this.blocks = Array.from({ length: c.layers }, (_, i) => this.child(`block${i}`, new Block(c)));
    this.lnf = this.child('lnf', new LayerNorm(c.dim));
    this.head = this.child('head', new Linear(c.dim, c.vocabOut));
  }

  private embed(tokens: Tensor, pos: number): Tensor {
    if (tokens.rank !== 2 || tokens.dtype !== 'i32') throw new Error(`Transformer: tokens must be i32 [B, T], got ${tokens.dtype} ${fmt(tokens.shape)}.`);
    const T = tokens.shape[1];
    if (pos + T > this.config.seqLen) throw new Error(`Transformer: positions ${pos}..${pos + T - 1} exceed seqLen ${this.config.seqLen}.`);
    return add(this.tok.forward(tokens), slice(this.pos, 0, pos, pos + T));
  }

  /** tokens [B, T] → logits [B, T, vocabOut]; `extra` [B, T, dim]: added to the input embeddings */
  forward(tokens: Tensor, extra?: Tensor): Tensor {
    let h = this.embed(tokens, 0);
    if (extra) h = add(h, extra);
    for (const b of this.blocks) h = b.forward(h, this.config.causal);
    return this.head.forward(this.lnf.forward(h));
  }

  /** Empty key/value caches for decoding a batch of B sequences (kept: dispose with `disposeCache`). */
  newCache(B: number): LayerCache[] {
    const { heads, dim, seqLen } = this.config;
    return this.blocks.map(() => ({ k: keep(zeros([B, heads, seqLen, dim / heads])), v: keep(zeros([B, heads, seqLen, dim / heads])) }));
  }

  /** tokens [B, n] at positions pos..pos+n−1 → logits [B, n, vocabOut], extending the caches. */
  forwardCached(tokens: Tensor, cache: LayerCache[], pos: number): Tensor {
    if (!this.config.causal) throw new Error('Transformer: cached decoding needs a causal model.');
    let h = this.embed(tokens, pos);
    this.blocks.forEach((b, i) => (h = b.forwardCached(h, cache[i], pos)));
    return this.head.forward(this.lnf.forward(h));
  }
}

export function disposeCache(cache: LayerCache[]): void {
  for (const c of cache) {
    c.k.dispose();
    c.v.dispose();
  }
}
