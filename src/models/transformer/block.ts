// A pre-norm transformer block: x + Attn(LN(x)), then x + MLP(LN(x)) with a GELU MLP.
// Attention is the fused kernel (ops/attention.ts); the decode path appends this step's keys and
// values to a per-layer cache and attends with the single-query kernel.

import { Dropout } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { LayerNorm } from '../../nn/norm.js';
import { attention } from '../../ops/attention.js';
import { attentionDecode, writeKV } from '../../ops/attention-decode.js';
import { add } from '../../ops/elementwise.js';
import { permute, reshape, unbind } from '../../ops/layout.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { TransformerConfig } from './config.js';

/** Per-layer key/value cache for decoding: [B, H, Tmax, d] each. */
export interface LayerCache {
  k: Tensor;
  v: Tensor;
}

export class Block extends Module {
  private ln1: LayerNorm;
  private qkv: Linear;
  private proj: Linear;
  private ln2: LayerNorm;
  private fc1: Linear;
  private fc2: Linear;
  private drop: Dropout;
  private heads: number;

  constructor(c: TransformerConfig) {
    super();
    this.heads = c.heads;
    this.ln1 = this.child('ln1', new LayerNorm(c.dim));
    this.qkv = this.child('qkv', new Linear(c.dim, 3 * c.dim));
    this.proj = this.child('proj', new Linear(c.dim, c.dim));
    this.ln2 = this.child('ln2', new LayerNorm(c.dim));
    this.fc1 = this.child('fc1', new Linear(c.dim, c.mlpRatio * c.dim));
    this.fc2 = this.child('fc2', new Linear(c.mlpRatio * c.dim, c.dim));
    this.drop = this.child('drop', new Dropout(c.dropout));
  }

  /** [B, T, C] → q, k, v [B, H, T, d] (views of one projection) */
  private project(x: Tensor): [Tensor, Tensor, Tensor] {
    const [B, T, C] = x.shape;
    const d = C / this.heads;
    const qkv = permute(reshape(this.qkv.forward(this.ln1.forward(x)), [B, T, 3, this.heads, d]), [2, 0, 3, 1, 4]);
    return unbind(qkv, 0) as [Tensor, Tensor, Tensor];
  }

  private finish(x: Tensor, a: Tensor): Tensor {
    const [B, , T, d] = a.shape;
    const merged = reshape(permute(a, [0, 2, 1, 3]), [B, T, this.heads * d]);
    const h = add(x, this.drop.forward(this.proj.forward(merged)));
    return add(h, this.drop.forward(this.fc2.forward(this.fc1.forward(this.ln2.forward(h), 'gelu'))));
  }

  /** x [B, T, C] → [B, T, C] */
  forward(x: Tensor, causal: boolean): Tensor {
    const [q, k, v] = this.project(x);
    return this.finish(x, attention(q, k, v, { causal }));
  }

  /** Decoding: x [B, n, C] holds positions pos..pos+n−1; appends their k/v to the cache (causal). */
  forwardCached(x: Tensor, cache: LayerCache, pos: number): Tensor {
    const [q, k, v] = this.project(x);
    writeKV(cache.k, k, pos);
    writeKV(cache.v, v, pos);
    return this.finish(x, attentionDecode(q, cache.k, cache.v, pos + x.shape[1]));
  }
}
