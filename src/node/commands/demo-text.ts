// vqgpu demo-text: the engine end to end without images (the first demo, before the image pipeline):
// a small character-level transformer (fused attention, AdamW, KV-cache
// sampling) learns a public-domain paragraph; the loss is compared with the uniform baseline.

import { runtime } from '../../device/runtime.js';
import { buildCharLM, sampleCharLM, trainCharLM } from '../../train/char-lm.js';
import { parseFlags, type FlagSpec } from '../../io/flags.js';

// Lewis Carroll, Alice's Adventures in Wonderland (1865), chapter 1: public domain.
export const ALICE =
  'Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing to do: ' +
  'once or twice she had peeped into the book her sister was reading, but it had no pictures or conversations ' +
  "in it, 'and what is the use of a book,' thought Alice 'without pictures or conversations?' So she was " +
  'considering in her own mind (as well as she could, for the hot day made her feel very sleepy and stupid), ' +
  'whether the pleasure of making a daisy-chain would be worth the trouble of getting up and picking the daisies, ' +
  'when suddenly a White Rabbit with pink eyes ran close by her. There was nothing so very remarkable in that; ' +
  "nor did Alice think it so very much out of the way to hear the Rabbit say to itself, 'Oh dear! Oh dear! " +
  "I shall be late!' ";

export const DEMO_TEXT_FLAGS: Record<string, FlagSpec> = {
  steps: { type: 'int', help: 'training steps', default: 300, min: 1 },
  seed: { type: 'int', help: 'random seed', default: 0 },
};

export async function demoText(argv: string[]): Promise<void> {
  const f = parseFlags(argv, DEMO_TEXT_FLAGS, 'demo-text');
  const r = runtime().report;
  console.log(`adapter: ${[r.vendor, r.architecture, r.description].filter(Boolean).join(' / ') || '(unnamed)'} (${r.host})`);
  const lm = buildCharLM(ALICE, { seed: Number(f.seed) });
  const uniform = Math.log(lm.vocab.length);
  console.log(`char transformer: ${lm.model.numParameters().toLocaleString()} parameters, vocabulary ${lm.vocab.length} (uniform loss ${uniform.toFixed(3)} nats)`);
  const t0 = performance.now();
  const steps = Number(f.steps);
  const logs = await trainCharLM(lm, ALICE, {
    steps, logEvery: 50, seed: Number(f.seed) + 1,
    onLog: (l) => console.log(`step ${l.step}/${steps}  loss ${l.loss.toFixed(3)}  (${((performance.now() - t0) / 1000).toFixed(1)} s)`),
  });
  const final = logs[logs.length - 1].loss;
  const secs = (performance.now() - t0) / 1000;
  const tokens = steps * 16 * lm.model.config.seqLen;
  console.log(`trained ${steps} steps in ${secs.toFixed(1)} s (${Math.round(tokens / secs).toLocaleString()} tokens/s); loss ${final.toFixed(3)} vs uniform ${uniform.toFixed(3)}`);
  console.log(`sample: ${JSON.stringify(await sampleCharLM(lm, 'Alice ', 58, 0.5, Number(f.seed)))}`);
}
