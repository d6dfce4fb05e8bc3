// `vqgpu <command> --help`: the flags each command declares.
import { helpText, type FlagSpec } from '../io/flags.js';
import { ENCODE_FLAGS } from './commands/encode.js';
import { EVAL_TOKENIZER_FLAGS } from './commands/eval-tokenizer.js';
import { TRAIN_TOKENIZER_FLAGS } from './commands/train-tokenizer.js';
import { TRAIN_CLASSIFIER_FLAGS } from './commands/train-classifier.js';
import { TRAIN_PRIOR_FLAGS } from './commands/train-prior.js';
import { EVAL_PRIOR_FLAGS } from './commands/eval-prior.js';
import { SAMPLE_FLAGS } from './commands/sample.js';
import { COMPARE_FLAGS } from './commands/compare.js';
import { DEMO_FLAGS } from './commands/demo.js';
import { DEMO_TEXT_FLAGS } from './commands/demo-text.js';
import { EXPORT_RUN_FLAGS } from './commands/export-run.js';
import { EVAL_SAMPLES_FLAGS } from './commands/eval-samples.js';

const FLAGS: Record<string, [string, Record<string, FlagSpec>]> = {
  'train-tokenizer': ['train the VQ-VAE tokenizer (with its discriminator)', TRAIN_TOKENIZER_FLAGS],
  'eval-tokenizer': ['held-out PSNR, L1, codebook usage and perplexity as one JSON line', EVAL_TOKENIZER_FLAGS],
  encode: ['images → token cache (uint16 grids + JSON header)', ENCODE_FLAGS],
  'train-prior': ['train a prior (ar, diffusion with the seed\'s or D3PM\'s noise, or mask) on a token cache', TRAIN_PRIOR_FLAGS],
  'eval-prior': ['held-out bits per token (and the unigram baseline) as one JSON line', EVAL_PRIOR_FLAGS],
  compare: ['priors side by side on the same cache: evaluations, s/image, held-out loss, KID, precision/recall, class accuracy', COMPARE_FLAGS],
  'train-classifier': ['train the small CNN classifier of the data set\'s classes (features for sample-quality metrics); held-out accuracy → RUN/metrics.json', TRAIN_CLASSIFIER_FLAGS],
  sample: ['new images, completions, reverse-diffusion strips and GIFs', SAMPLE_FLAGS],
  demo: ['the quick-start demo: the whole pipeline on the emoji set', DEMO_FLAGS],
  'demo-text': ['a character-level transformer learns a paragraph', DEMO_TEXT_FLAGS],
  'eval-samples': ['N samples scored in a classifier\'s features against the training images, beside held-out real images, their reconstructions and N training grids decoded', EVAL_SAMPLES_FLAGS],
  'export-run': ["a run's newest weights and config, without optimizer state (to ship)", EXPORT_RUN_FLAGS],
};

export function commandHelp(name: string): string {
  const f = FLAGS[name];
  return f ? helpText(name, f[0], f[1]) : `vqgpu ${name}: no flags.`;
}
