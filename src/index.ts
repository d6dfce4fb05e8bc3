// vqgpu: the public API of the engine (same in Node and in the browser).
export { init, runtime, shutdown, Runtime } from './device/runtime.js';
export { NO_ADAPTER_MESSAGE, type AdapterReport } from './device/gpu.js';
export { Tensor, tensor, empty, type DType, type Shape } from './tensor/tensor.js';
export { tidy, keep } from './tensor/scope.js';
export { backward, noGrad, isGradEnabled } from './autograd/tape.js';
export * from './ops/index.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './io/index.js';
