// A small CNN that learns the emoji set's 9 categories (Flags, Smileys & Emotion, ...) from 32 px
// images, with vqgpu's public API only: data from disk, conv layers, AdamW, held-out accuracy.
//   npm run example -- classify-emoji [STEPS=400] [DATA=emoji | a folder whose subfolders are classes]
import { argmax, backward, crossEntropy, ImageLoader, init, mean, nn, noGrad, openDataSet, optim, shutdown, silu, tensor, tidy, type Tensor } from 'vqgpu';

const [steps = 400, spec = 'emoji'] = [Number(process.argv[2] ?? 400), process.argv[3]];
const S = 32, B = 32;
const rt = await init();
const all = openDataSet(spec); // items, class names, and a held-out split (5%, by a hash of each path)
const data = { ...all, items: all.items.filter((it) => it.label >= 0) }; // only images that have a class
const train = new ImageLoader(data, { size: S, batch: B, split: 'train', flip: true, seed: 1 });
const heldout = new ImageLoader(data, { size: S, batch: 64, split: 'heldout' });
console.log(`${train.items.length} training and ${heldout.items.length} held-out images, classes: ${data.labels.join(', ')}`);

// [N, 3, 32, 32] → 32 → 64 @16² → 128 @8² channels (3×3 convs, GroupNorm, SiLU) → average pool → [N, classes]
const block = (cin: number, cout: number, stride: number) => [
  new nn.Conv2d(cin, cout, { kernel: 3, padding: 1, stride }), new nn.GroupNorm(8, cout), silu,
];
const model = new nn.Sequential(
  ...block(3, 32, 1), ...block(32, 64, 2), ...block(64, 64, 1), ...block(64, 128, 2), ...block(128, 128, 1),
  (x: Tensor) => mean(x, [2, 3]),
  new nn.Linear(128, data.labels.length),
);
const opt = new optim.AdamW(model.parameters(), { lr: 2e-3, weightDecay: 1e-4 });

const batchTensors = (b: { images: Float32Array; labels: Int32Array }) =>
  [tensor(b.images, [b.labels.length, 3, S, S]), tensor(b.labels, [b.labels.length], { dtype: 'i32' })] as const;
let first = NaN, last = NaN;
for (let step = 1; step <= steps; step++) {
  const loss = tidy(() => {
    const [x, y] = batchTensors(train.next());
    opt.zeroGrad();
    const l = crossEntropy(model.forward(x), y);
    backward(l);
    opt.step();
    return l; // kept: read back below every 50 steps only (a readback waits for the GPU)
  });
  if (step === 1 || step % 50 === 0 || step === steps) {
    last = await loss.item();
    if (step === 1) first = last;
    console.log(`step ${step}: loss ${last.toFixed(3)}`);
  }
  loss.dispose();
  await rt.throttle();
}

model.eval();
let right = 0, total = 0;
for (const b of heldout.epoch()) {
  const pred = noGrad(() => tidy(() => argmax(model.forward(batchTensors(b)[0]), 1)));
  const p = (await pred.toArray()) as Int32Array;
  pred.dispose();
  p.forEach((k, i) => { right += Number(k === b.labels[i]); total++; });
}
console.log(`held-out accuracy ${(100 * right / total).toFixed(1)}% (${total} images); loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
if (!(last < first)) throw new Error('the training loss did not fall');
shutdown();
