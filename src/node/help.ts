// `vqgpu <command> --help`: the flags each command declares.
import { helpText, type FlagSpec } from './args.js';
import { ENCODE_FLAGS } from './commands/encode.js';
import { EVAL_TOKENIZER_FLAGS } from './commands/eval-tokenizer.js';
import { TRAIN_TOKENIZER_FLAGS } from './commands/train-tokenizer.js';

const FLAGS: Record<string, [string, Record<string, FlagSpec>]> = {
  'train-tokenizer': ['train the VQ-VAE tokenizer (with its discriminator)', TRAIN_TOKENIZER_FLAGS],
  'eval-tokenizer': ['held-out PSNR, L1, codebook usage and perplexity as one JSON line', EVAL_TOKENIZER_FLAGS],
  encode: ['images → token cache (uint16 grids + JSON header)', ENCODE_FLAGS],
};

export function commandHelp(name: string): string {
  const f = FLAGS[name];
  return f ? helpText(name, f[0], f[1]) : `vqgpu ${name}: no flags.`;
}
