// Optimizers, gradient clipping and learning-rate schedules.
export { Optimizer, type LrSchedule, type OptimizerOptions, type OptimizerState, type ParamGroup } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { clipGradNorm, GradNorm } from './clip.js';
export { warmupCosine, warmupLinear, type WarmupCosineOptions } from './schedule.js';
