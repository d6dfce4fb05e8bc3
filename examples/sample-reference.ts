// Loads the shipped reference tokenizer and AR prior and draws a 3×3 grid of smileys and one of
// flags, with vqgpu's public API only. Run from a clone (after `npm run setup`):
//   npx tsx examples/sample-reference.ts [MODELS=models/emoji-32] [OUT=samples.png]
// or, in a project with `npm install vqgpu`, with the models folder copied beside it.
import { ImageGenerator, init, loadGenerator, shutdown, writePng } from 'vqgpu';

const [models = 'models/emoji-32', out = 'samples.png'] = process.argv.slice(2);
await init(); // Dawn's WebGPU device (a GPU, or Mesa's lavapipe on a machine without one)
const gen = await loadGenerator(`${models}/tokenizer`, `${models}/ar`);
console.log(`${gen.description}; classes: ${gen.classes.join(', ')}`);

// 18 images: the first 9 of class 'Smileys & Emotion', the next 9 'Flags' (a unique prefix names a
// class), guided by the prior's default classifier-free guidance scale; the same seed draws the
// same tokens as `vqgpu sample --prior ${models}/ar --class Smileys,Flags --n 18 --seed 1`.
const s = await gen.sample({ n: 18, class: ['Smileys', 'Flags'], seed: 1 });
writePng(out, ImageGenerator.grid(s, 9)); // two rows of 9, each image scaled to 64 px
console.log(`wrote ${out}: ${s.n} images of ${s.size}×${s.size} px`);
gen.dispose();
shutdown();
