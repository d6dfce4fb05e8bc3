// All ops, one namespace.
export * from './creation.js';
export * from './elementwise.js';
export * from './layout.js';
export * from './reduce.js';
export * from './matmul.js';
export { detach, straightThrough } from './detach.js';
export * from './cast.js';
// attention.ts also exports the helpers attention-decode.ts shares with it: only the API here.
export { attention, MAX_HEAD_DIM, STORED_SCORES_BUDGET, storesScores, type AttentionKernelOptions, type AttentionOptions, type BackwardScheme, type ScoresPath } from './attention.js';
export * from './attention-decode.js';
export * from './softmax.js';
export * from './codebook.js';
export * from './conv2d.js';
export type { ConvKernelChoice } from './conv2d-subgroup.js';
export * from './upsample.js';
export * from './norm.js';
export * from './embedding.js';
export * from './gather.js';
export * from './random.js';
export * from './dropout.js';
export * from './xent.js';
export * from './pixel-shuffle.js';
