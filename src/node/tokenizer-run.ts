// A tokenizer run folder: checkpoints holding the VQ-VAE and its discriminator (one container
// module), their optimizers, the config, and the loop's position. Loading needs only the folder:
// the config inside the checkpoint rebuilds the model.

import { Module } from '../nn/module.js';
import { checkTokenizerConfig, type TokenizerConfig } from '../models/tokenizer/config.js';
import { Discriminator } from '../models/tokenizer/discriminator.js';
import { VQVAE } from '../models/tokenizer/vqvae.js';
import { loadLatestCheckpoint, type LoadedCheckpoint } from './checkpoint.js';

/** What a tokenizer checkpoint holds: `vqvae.*` and (when trained with one) `disc.*`. */
export class TokenizerState extends Module {
  readonly vqvae: VQVAE;
  readonly disc: Discriminator;
  constructor(readonly config: TokenizerConfig) {
    super();
    this.vqvae = this.child('vqvae', new VQVAE(config));
    this.disc = this.child('disc', new Discriminator(config.disc, config.groups));
  }
}

export interface LoadedTokenizer {
  state: TokenizerState;
  config: TokenizerConfig;
  ckpt: LoadedCheckpoint;
}

/** Loads the newest checkpoint of a tokenizer run (refusing other kinds of checkpoint by name). */
export async function loadTokenizerRun(dir: string): Promise<LoadedTokenizer> {
  const probe = await loadLatestCheckpoint(dir);
  if (!probe) throw new Error(`'${dir}' holds no checkpoint (expected a run folder made by \`vqgpu train-tokenizer --out ${dir}\`).`);
  const config = checkTokenizerConfig((probe.config as { tokenizer?: unknown } | undefined)?.tokenizer, probe.path);
  const state = new TokenizerState(config);
  const { restoreCheckpoint } = await import('./checkpoint.js');
  restoreCheckpoint(probe, { model: state });
  state.vqvae.eval();
  return { state, config, ckpt: probe };
}
