// A tokenizer run folder: checkpoints holding the VQ-VAE and its discriminator (one container
// module), their optimizers, the config, and the loop's position. Loading needs only the folder:
// the config inside the checkpoint rebuilds the model.

import { checkTokenizerConfig, type TokenizerConfig } from '../models/tokenizer/config.js';
import { expectRunKind, loadLatestCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { TokenizerState } from '../models/tokenizer/state.js';

// The checkpoint module lives with the models (browser-safe); re-exported for the Node commands.
export { TokenizerState };

export interface LoadedTokenizer {
  state: TokenizerState;
  config: TokenizerConfig;
  ckpt: LoadedCheckpoint;
}

/** Loads the newest checkpoint of a tokenizer run (refusing other kinds of checkpoint by name). */
export async function loadTokenizerRun(dir: string): Promise<LoadedTokenizer> {
  const probe = await loadLatestCheckpoint(dir);
  if (!probe) throw new Error(`'${dir}' holds no checkpoint (expected a run folder made by \`vqgpu train-tokenizer --out ${dir}\`).`);
  expectRunKind(probe, 'tokenizer', `'${dir}'`);
  const config = checkTokenizerConfig((probe.config as { tokenizer?: unknown } | undefined)?.tokenizer, probe.path);
  const state = new TokenizerState(config);
  const { restoreCheckpoint } = await import('./checkpoint.js');
  restoreCheckpoint(probe, { model: state });
  state.vqvae.eval();
  return { state, config, ckpt: probe };
}
