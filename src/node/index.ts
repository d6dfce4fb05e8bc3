// vqgpu's Node entry (dist/node/vqgpu.mjs, what `import ... from 'vqgpu'` gives under Node): the
// whole browser-safe API of src/index.ts, plus what needs a file system — run folders, image data
// sets on disk, PNG files. One bundle, so the device that `init()` opens is the one these use.
//
//   const gen = await loadGenerator('models/emoji-32/tokenizer', 'models/emoji-32/ar');
//   writePng('faces.png', ImageGenerator.grid(await gen.sample({ n: 9, class: 'Smileys' })));

import { ImageGenerator } from '../sample/image-generator.js';
import { loadPriorRun } from './prior-run.js';
import { loadTokenizerRun } from './tokenizer-run.js';

export * from '../index.js';
export { openDataSet } from './dataset.js';
export { ImageLoader, type Batch, type LoaderOptions } from './image-loader.js';
export { writePng, writeGif } from './write-image.js';

/**
 * The generator of a tokenizer run folder and a prior run folder (as `vqgpu sample --tokenizer T
 * --prior P` takes them; e.g. `models/emoji-32/tokenizer` and `models/emoji-32/ar`): the newest
 * checkpoint of each. Call `init()` first; `dispose()` the generator when done.
 */
export async function loadGenerator(tokenizerRun: string, priorRun: string): Promise<ImageGenerator> {
  const { state } = await loadTokenizerRun(tokenizerRun);
  let prior;
  try {
    ({ prior } = await loadPriorRun(priorRun));
  } catch (e) {
    state.dispose();
    throw e;
  }
  return ImageGenerator.fromModels(state, prior, { tokenizer: `'${tokenizerRun}'`, prior: `'${priorRun}'` });
}
