// The train-ar bench's TF.js peer: the AR prior's transformer (src/models/transformer/) written with
// TF.js ops, trained with tf.train.adam on the same next-token cross-entropy. Mirrors ours:
//   token [vocabIn, C] + position [seqLen, C] embeddings (N(0, 0.02²))
//   per block, pre-norm:  h = x + Dropout(proj(attn(LN1(x))));  out = h + Dropout(fc2(GELU(fc1(LN2(h)))))
//     qkv: one Linear C → 3C, split as [B, T, 3, H, d]; causal softmax(q·kᵀ/√d)·v; proj C → C
//     fc1 C → 4C, GELU in its tanh form, fc2 4C → C
//   final LayerNorm, untied head Linear C → K.
// Linear weights [in, out] and biases ~ U(±1/√in), LayerNorm eps 1e-5 with weight 1 and bias 0,
// dropout only on the two residual branches — as ours. Attention is composed from TF.js ops (its
// WebGPU backend has no fused attention); the T×T scores are materialised.

import type { TransformerConfig } from '../src/models/transformer/config.js';

type TF = typeof import('@tensorflow/tfjs');
type TfTensor = import('@tensorflow/tfjs').Tensor;
type Variable = import('@tensorflow/tfjs').Variable;

interface Lin { w: Variable; b: Variable }
interface Norm { g: Variable; b: Variable }
interface BlockVars { ln1: Norm; qkv: Lin; proj: Lin; ln2: Norm; fc1: Lin; fc2: Lin }

export class TfArModel {
  private readonly vars: Variable[] = [];
  private readonly tok: Variable;
  private readonly pos: Variable;
  private readonly blocks: BlockVars[];
  private readonly lnf: Norm;
  private readonly head: Lin;
  /** additive causal mask [T, T]: 0 on and below the diagonal, −1e9 above */
  private readonly mask: TfTensor;
  private readonly optimizer: import('@tensorflow/tfjs').Optimizer;

  /** A model for sequences of T positions (T ≤ seqLen), trained with Adam at learning rate `lr`. */
  constructor(private readonly tf: TF, private readonly c: TransformerConfig, readonly T: number, lr: number, seed = 1) {
    let s = seed;
    const next = () => s++;
    const C = c.dim;
    const normal = (shape: number[]) => this.variable(tf.randomNormal(shape, 0, 0.02, 'float32', next()));
    const linear = (i: number, o: number): Lin => {
      const bound = 1 / Math.sqrt(i);
      return {
        w: this.variable(tf.randomUniform([i, o], -bound, bound, 'float32', next())),
        b: this.variable(tf.randomUniform([o], -bound, bound, 'float32', next())),
      };
    };
    const norm = (): Norm => ({ g: this.variable(tf.ones([C])), b: this.variable(tf.zeros([C])) });
    this.tok = normal([c.vocabIn, C]);
    this.pos = normal([c.seqLen, C]);
    this.blocks = Array.from({ length: c.layers }, () => ({
      ln1: norm(), qkv: linear(C, 3 * C), proj: linear(C, C),
      ln2: norm(), fc1: linear(C, c.mlpRatio * C), fc2: linear(c.mlpRatio * C, C),
    }));
    this.lnf = norm();
    this.head = linear(C, c.vocabOut);
    this.mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9));
    this.optimizer = tf.train.adam(lr);
  }

  private variable(init: TfTensor): Variable {
    const v = this.tf.variable(init);
    init.dispose();
    this.vars.push(v);
    return v;
  }

  numParameters(): number {
    return this.vars.reduce((n, v) => n + v.size, 0);
  }

  /** x [..., C] · W [C, O] + b, through a 2-D matmul */
  private linear(x: TfTensor, l: Lin): TfTensor {
    const tf = this.tf;
    const shape = x.shape;
    const y = tf.add(tf.matMul(tf.reshape(x, [-1, shape[shape.length - 1]]), l.w), l.b);
    return tf.reshape(y, [...shape.slice(0, -1), l.b.size]);
  }

  private layerNorm(x: TfTensor, n: Norm): TfTensor {
    const tf = this.tf;
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), n.g), n.b);
  }

  /** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the form of our unary.wgsl */
  private gelu(x: TfTensor): TfTensor {
    const tf = this.tf;
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
  }

  private dropout(x: TfTensor, training: boolean): TfTensor {
    return training && this.c.dropout > 0 ? this.tf.dropout(x, this.c.dropout) : x;
  }

  /** x [B, T, C] → [B, T, C] */
  private block(x: TfTensor, b: BlockVars, training: boolean): TfTensor {
    const tf = this.tf;
    const [B, T, C] = x.shape;
    const H = this.c.heads, d = C / H;
    // [B, T, 3C] → three [B, H, T, d]
    const qkv = tf.reshape(this.linear(this.layerNorm(x, b.ln1), b.qkv), [B, T, 3, H, d]);
    const [q, k, v] = tf.split(qkv, 3, 2).map((t) => tf.transpose(tf.reshape(t, [B, T, H, d]), [0, 2, 1, 3]));
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)), this.mask); // [B, H, T, T]
    const a = tf.matMul(tf.softmax(scores), v); // [B, H, T, d]
    const merged = tf.reshape(tf.transpose(a, [0, 2, 1, 3]), [B, T, C]);
    const h = tf.add(x, this.dropout(this.linear(merged, b.proj), training));
    return tf.add(h, this.dropout(this.linear(this.gelu(this.linear(this.layerNorm(h, b.ln2), b.fc1)), b.fc2), training));
  }

  /** tokens [B, T] i32 (T as constructed) → logits [B, T, K]; dropout only when training */
  logits(tokens: TfTensor, training = false): TfTensor {
    const tf = this.tf;
    let h = tf.add(tf.gather(this.tok, tokens), tf.slice(this.pos, [0, 0], [this.T, this.c.dim]));
    for (const b of this.blocks) h = this.block(h, b, training);
    return this.linear(this.layerNorm(h, this.lnf), this.head);
  }

  /** Mean next-token cross-entropy (nats) of inputs [B, T] i32 against targets [B·T] i32. */
  loss(inputs: TfTensor, targets: TfTensor, training = false): TfTensor {
    const tf = this.tf;
    const logits = tf.reshape(this.logits(inputs, training), [-1, this.c.vocabOut]);
    return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, this.c.vocabOut), logits);
  }

  /** One Adam step; returns the loss (a scalar the caller disposes). */
  trainStep(inputs: TfTensor, targets: TfTensor): TfTensor {
    return this.tf.tidy(() => this.optimizer.minimize(() => this.loss(inputs, targets, true) as import('@tensorflow/tfjs').Scalar, true, this.vars)!);
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const v of this.vars) v.dispose();
    this.mask.dispose();
  }
}
