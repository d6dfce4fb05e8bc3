// A character-level GPT written on vqgpu's public API: embeddings, causal fused attention, layer
// norm, an MLP, trained with AdamW to predict the next character of a short text, then sampled.
//   npm run example -- char-transformer [STEPS=300]
import { add, attention, backward, crossEntropy, gelu, init, nn, noGrad, optim, permute, reshape, shutdown, slice, tensor, tidy, type Tensor } from 'vqgpu';

const TEXT = `the engine runs on the gpu of a laptop, a server or a browser tab. it learns images as grids of
tokens, and a prior learns the grids. a small model trained for a few minutes draws shapes and colours;
a larger one trained for longer draws flags, faces and symbols that a person recognises. `.repeat(4);
const chars = [...new Set(TEXT)].sort(), V = chars.length;
const ids = Int32Array.from(TEXT, (c) => chars.indexOf(c));
const T = 64, D = 64, H = 4, LAYERS = 2, B = 16, steps = Number(process.argv[2] ?? 300);

class Block extends nn.Module {
  ln1 = this.child('ln1', new nn.LayerNorm(D)); qkv = this.child('qkv', new nn.Linear(D, 3 * D));
  proj = this.child('proj', new nn.Linear(D, D)); ln2 = this.child('ln2', new nn.LayerNorm(D));
  up = this.child('up', new nn.Linear(D, 4 * D)); down = this.child('down', new nn.Linear(4 * D, D));
  forward(x: Tensor): Tensor { // x [B, T, D]
    const [b, t] = x.shape;
    const qkv = permute(reshape(this.qkv.forward(this.ln1.forward(x)), [b, t, 3, H, D / H]), [2, 0, 3, 1, 4]); // [3, B, H, T, d]
    const head = (i: number) => reshape(slice(qkv, 0, i, i + 1), [b, H, t, D / H]);
    const y = attention(head(0), head(1), head(2), { causal: true }); // [B, H, T, d], fused
    x = add(x, this.proj.forward(reshape(permute(y, [0, 2, 1, 3]), [b, t, D])));
    return add(x, this.down.forward(gelu(this.up.forward(this.ln2.forward(x)))));
  }
}
class CharGPT extends nn.Module {
  tok = this.child('tok', new nn.Embedding(V, D)); pos = this.child('pos', new nn.Embedding(T, D));
  blocks = Array.from({ length: LAYERS }, (_, i) => this.child(`b${i}`, new Block()));
  ln = this.child('ln', new nn.LayerNorm(D)); head = this.child('head', new nn.Linear(D, V));
  forward(x: Tensor): Tensor { // token ids i32 [B, t] → logits [B, t, V]
    const t = x.shape[1];
    let h = add(this.tok.forward(x), this.pos.forward(tensor(Int32Array.from({ length: t }, (_, i) => i), [t], { dtype: 'i32' })));
    for (const b of this.blocks) h = b.forward(h);
    return this.head.forward(this.ln.forward(h));
  }
}

const rt = await init();
const model = new CharGPT();
const opt = new optim.AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0.01 });
let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
let first = NaN, last = NaN;
for (let step = 1; step <= steps; step++) {
  // B random windows of T + 1 characters: inputs are the first T, targets the last T
  const x = new Int32Array(B * T), y = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const s = Math.floor(rand() * (ids.length - T - 1));
    x.set(ids.subarray(s, s + T), b * T);
    y.set(ids.subarray(s + 1, s + T + 1), b * T);
  }
  const loss = tidy(() => {
    opt.zeroGrad();
    const l = crossEntropy(reshape(model.forward(tensor(x, [B, T], { dtype: 'i32' })), [B * T, V]), tensor(y, [B * T], { dtype: 'i32' }));
    backward(l);
    opt.step();
    return l;
  });
  if (step === 1 || step % 50 === 0 || step === steps) {
    last = await loss.item();
    if (step === 1) first = last;
    console.log(`step ${step}: loss ${last.toFixed(3)} nats/char`);
  }
  loss.dispose();
  await rt.throttle();
}

// Sampling: the last T characters in, a character drawn from the softmax of the last position's logits.
model.eval();
const out = [...'the '].map((c) => chars.indexOf(c));
for (let i = 0; i < 120; i++) {
  const ctx = out.slice(-T);
  const logits = noGrad(() => tidy(() => slice(model.forward(tensor(Int32Array.from(ctx), [1, ctx.length], { dtype: 'i32' })), 1, ctx.length - 1, ctx.length)));
  const z = (await logits.toArray()) as Float32Array, zmax = Math.max(...z);
  const p = Array.from(z, (v) => Math.exp((v - zmax) / 0.8)); // softmax at temperature 0.8, unnormalised
  logits.dispose();
  let r = rand() * p.reduce((a, v) => a + v, 0), k = 0;
  while (k < V - 1 && (r -= p[k]) > 0) k++;
  out.push(k);
}
console.log(`sample: ${out.map((k) => chars[k]).join('').replace(/\n/g, ' ')}`);
console.log(`loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
if (!(last < first)) throw new Error('the training loss did not fall');
shutdown();
