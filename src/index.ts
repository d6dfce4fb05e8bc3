/// <reference types="@webgpu/types" preserve="true" />
// vqgpu: the public API of the engine (same in Node and in the browser). The package's Node entry
// (dist/node/vqgpu.mjs) and browser entry (dist/web/vqgpu.js) are both built from this file; the
// device comes from Dawn (the `webgpu` package) in Node and from `navigator.gpu` in a browser.
//
//   import { init, tensor, nn, optim } from 'vqgpu';
//
// Ops (add, matmul, conv2d, attention, crossEntropy, ...) are top-level functions; modules and
// optimizers are also available under the `nn` and `optim` namespaces (the same classes).

export { init, runtime, shutdown, Runtime } from './device/runtime.js';
export { NO_ADAPTER_MESSAGE, type AdapterReport } from './device/gpu.js';
export { Tensor, tensor, empty, type DType, type Shape, type TensorOptions, type TypedArray } from './tensor/tensor.js';
export { tidy, keep } from './tensor/scope.js';
export { backward, noGrad, isGradEnabled } from './autograd/tape.js';
export * from './ops/index.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './io/index.js';

/**
 * Modules and layers, as in `torch.nn`: `nn.Module`, `nn.Linear`, `nn.Conv2d`, `nn.Embedding`,
 * `nn.LayerNorm`, `nn.GroupNorm`, `nn.Dropout`, `nn.Sequential`, `nn.parameter`, and the weight
 * initialisers (`nn.initializers`). The same classes are exported at the top level too.
 * @example
 * const mlp = new nn.Sequential(new nn.Linear(2, 16), relu, new nn.Linear(16, 1));
 */
export * as nn from './nn/index.js';

/**
 * Optimizers, gradient clipping and learning-rate schedules, as in `torch.optim`: `optim.SGD`,
 * `optim.Adam`, `optim.AdamW`, `optim.clipGradNorm`, `optim.warmupCosine`, `optim.warmupLinear`.
 * The same names are exported at the top level too.
 * @example
 * const opt = new optim.AdamW(mlp.parameters(), { lr: 1e-2 });
 */
export * as optim from './optim/index.js';

export { ImageGenerator, type SampleOptions, type Samples } from './sample/image-generator.js';
export { imageGrid, type Canvas } from './data/figure.js';
export type { DataSet, Item } from './data/dataset.js';
