// Modules, layers and initialisers.
export { Module, parameter, checkStateDict } from './module.js';
export { Linear } from './linear.js';
export { Conv2d, type Conv2dConfig } from './conv2d.js';
export { Embedding } from './embedding.js';
export { LayerNorm, GroupNorm } from './norm.js';
export { Dropout } from './dropout.js';
export { Sequential, type Layer, type SequentialItem } from './sequential.js';
export * as initializers from './init.js';
// init.ts's manualSeed seeds the host initialisers; ops' manualSeed seeds the GPU generator.
export { manualSeed as initSeed, InitRng } from './init.js';
