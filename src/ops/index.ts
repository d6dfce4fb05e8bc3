// All ops, one namespace.
export * from './creation.js';
export * from './elementwise.js';
export * from './layout.js';
export * from './reduce.js';
export * from './matmul.js';
export { detach } from './detach.js';
export * from './cast.js';
export * from './attention.js';
export * from './softmax.js';
export * from './codebook.js';
export * from './conv2d.js';
export * from './upsample.js';
export * from './norm.js';
export * from './embedding.js';
export * from './gather.js';
export * from './random.js';
export * from './dropout.js';
export * from './xent.js';
