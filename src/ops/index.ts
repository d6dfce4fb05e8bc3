// All ops, one namespace.
export * from './creation.js';
export * from './elementwise.js';
export * from './layout.js';
export * from './reduce.js';
export * from './matmul.js';
export { detach } from './detach.js';
