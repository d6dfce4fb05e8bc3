// Every benchmark, one re-export line each (`export { bench as <name> } from './<name>.js';`).
// bench/run.ts collects them; the export name is not used, each Bench carries its own `name`.

export { bench as matmul } from './matmul.js';
export { bench as conv2d } from './conv2d.js';
export { bench as softmax } from './softmax.js';
export { bench as norm } from './norm.js';
export { bench as optim } from './optim.js';
export { bench as codebook } from './codebook.js';
export { bench as xent } from './xent.js';
export { bench as attention } from './attention.js';
export { bench as sampleAr } from './sample-ar.js';
export { bench as trainAr } from './train-ar.js';
