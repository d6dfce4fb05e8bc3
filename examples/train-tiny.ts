// Trains a tiny MLP on y = sin(2·x₀)·x₁ + x₀ with vqgpu's public API only (`import ... from 'vqgpu'`),
// and fails unless the loss falls at least 4×. The package test (kernels-test/package.node.test.ts)
// runs it against the packed, installed package. In your own project: `npm install vqgpu`, then
// compile it with tsc (or bundle it with esbuild) and run it with Node.
import { backward, init, mean, nn, optim, relu, shutdown, square, sub, tensor, tidy } from 'vqgpu';

const rt = await init(); // Dawn in Node (the `webgpu` package), navigator.gpu in a browser
const n = 64, xs = new Float32Array(2 * n), ys = new Float32Array(n);
for (let i = 0; i < n; i++) {
  const a = Math.sin(i), b = Math.cos(3 * i);
  xs.set([a, b], 2 * i);
  ys[i] = Math.sin(2 * a) * b + a;
}
const x = tensor(xs, [n, 2]), y = tensor(ys, [n, 1]);
const model = new nn.Sequential(new nn.Linear(2, 32), relu, new nn.Linear(32, 1));
const opt = new optim.Adam(model.parameters(), { lr: 0.02 });
const loss = () => mean(square(sub(model.forward(x), y)));
const lossValue = async () => { const l = tidy(loss); const v = await l.item(); l.dispose(); return v; };

const first = await lossValue();
for (let step = 0; step < 60; step++) {
  tidy(() => { opt.zeroGrad(); backward(loss()); opt.step(); }); // every temporary freed at the end
  await rt.throttle(); // lets the GPU catch up (at most one step in flight)
}
const last = await lossValue();
console.log(`loss ${first.toFixed(4)} → ${last.toFixed(4)}`);
if (!(last < first / 4)) throw new Error(`the loss did not fall 4× (${first} → ${last})`);
shutdown(); // releases the device so that Node can exit
