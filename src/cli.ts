// The `vqgpu` command line (Node). Each command lives in src/node/commands/. Errors are one clear
// sentence and a non-zero exit (2 for usage errors); set VQGPU_DEBUG=1 for stack traces.

import { init, shutdown } from './device/runtime.js';
import { UsageError } from './io/flags.js';

type Command = { summary: string; run: (argv: string[]) => Promise<void>; gpu: boolean };

const COMMANDS: Record<string, Command> = {
  info: { summary: 'print the WebGPU adapter and its limits', gpu: true, run: async () => (await import('./node/commands/info.js')).info() },
  demo: { summary: 'the whole pipeline on the emoji set: tokenizer, priors, figures', gpu: true, run: async (a) => (await import('./node/commands/demo.js')).demo(a) },
  'demo-text': { summary: 'a character-level transformer learns a paragraph (engine demo)', gpu: true, run: async (a) => (await import('./node/commands/demo-text.js')).demoText(a) },
  'train-tokenizer': { summary: 'train the VQ-VAE tokenizer', gpu: true, run: async (a) => (await import('./node/commands/train-tokenizer.js')).trainTokenizer(a) },
  'eval-tokenizer': { summary: 'held-out PSNR and codebook usage of a tokenizer run', gpu: true, run: async (a) => (await import('./node/commands/eval-tokenizer.js')).evalTokenizer(a) },
  encode: { summary: 'images → token cache', gpu: true, run: async (a) => (await import('./node/commands/encode.js')).encode(a) },
  'train-prior': { summary: 'train a prior (ar, diffusion or mask) on a token cache', gpu: true, run: async (a) => (await import('./node/commands/train-prior.js')).trainPrior(a) },
  'eval-prior': { summary: 'held-out bits per token of a prior', gpu: true, run: async (a) => (await import('./node/commands/eval-prior.js')).evalPrior(a) },
  compare: { summary: 'priors side by side: the numbers of eval-samples (KID, precision/recall, class accuracy, copies), s/image, held-out loss', gpu: true, run: async (a) => (await import('./node/commands/compare.js')).compare(a) },
  'train-classifier': { summary: "train the small image classifier (the sample-quality metrics' feature space)", gpu: true, run: async (a) => (await import('./node/commands/train-classifier.js')).trainClassifier(a) },
  sample: { summary: 'new images, completions, reverse-diffusion figures', gpu: true, run: async (a) => (await import('./node/commands/sample.js')).sample(a) },
  'eval-samples': { summary: 'sample quality: KID, precision/recall, class accuracy, memorisation, beside real and reconstructed images', gpu: true, run: async (a) => (await import('./node/commands/eval-samples.js')).evalSamples(a) },
  'export-run': { summary: "a run's weights and config without optimizer state (to ship)", gpu: false, run: async (a) => (await import('./node/commands/export-run.js')).exportRun(a) },
};

function usage(): string {
  return ['usage: vqgpu <command> [flags]   (vqgpu <command> --help for its flags)', '', ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(18)}${c.summary}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`vqgpu: unknown command '${name}'.\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help')) {
    const help = await import('./node/help.js');
    console.log(help.commandHelp(name));
    return 0;
  }
  try {
    if (cmd.gpu) await init();
    await cmd.run(rest);
    // a command may set a non-zero code without failing (130: interrupted, checkpoint written)
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    console.error(`vqgpu ${name}: ${err.message}`);
    if (process.env.VQGPU_DEBUG === '1') console.error(err.stack);
    return 1;
  } finally {
    shutdown();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`vqgpu: ${(e as Error).message}`);
    process.exit(1);
  },
);
