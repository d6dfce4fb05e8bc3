// A tokenizer run folder: checkpoints holding the VQ-VAE and its discriminator (one container
// module), their optimizers, the config, and the loop's position. Loading needs only the folder:
// the config inside the checkpoint rebuilds the model.

import { checkTokenizerConfig, type TokenizerConfig } from '../models/tokenizer/config.js';
import { expectRunKind, loadLatestCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { TokenizerState } from '../models/tokenizer/state.js';
import { checkpointChecksum } from './checksum.js';
import type { Module } from '../nn/module.js';
import { zeros } from '../ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';

// The checkpoint module lives with the models (browser-safe); re-exported for the Node commands.
export { TokenizerState };

/** Copies `src`'s tensors into `dst` by name; `dst`'s residual blocks absent from `src` become identities. */
function growDecoder(dst: Module, src: Module): void {
  const have = src.stateDict();
  const fresh: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(dst.stateDict())) {
    const s = have[name];
    if (s && s.shape.join() === t.shape.join()) fresh[name] = s;
    else if (!s && /block\d+\.conv2\.(weight|bias)$/.test(name)) fresh[name] = zeros(t.shape);
    else if (!s && /block\d+\./.test(name)) continue; // a new block's other layers: their own initialisation
    else throw new Error(`--encoder-from: the decoder's '${name}' [${t.shape}] has no counterpart in the source's decoder to start from.`);
  }
  dst.loadStateDict(fresh, { strict: false });
  for (const [name, t] of Object.entries(fresh)) if (!(name in have)) t.dispose();
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
  expectRunKind(probe, 'tokenizer', `'${dir}'`);
  const config = checkTokenizerConfig((probe.config as { tokenizer?: unknown } | undefined)?.tokenizer, probe.path);
  const state = new TokenizerState(config);
  const { restoreCheckpoint } = await import('./checkpoint.js');
  restoreCheckpoint(probe, { model: state });
  state.vqvae.eval();
  return { state, config, ckpt: probe };
}

/** Which tokenizer's tokens a run reads and writes: a decoder-only run names its encoder's source. */
export interface TokenIdentity {
  /** the checksum caches and priors name the tokenizer by (`checkpointChecksum` of the source) */
  checksum: string;
  /** the run folder the encoder and codebook came from */
  from: string;
}

/**
 * A decoder-only tokenizer on `fromDir`'s encoder and codebook: the config (the source's, with
 * the decoder's width and residual blocks where given, else the source's; the encoder's pinned to the source's) and the
 * state, encoder and quantizer copied from the source. The decoder starts from the source's where
 * it can: every tensor of the same name and shape is copied, and residual blocks the source lacks
 * (more `resBlocks` at the same width) start as the identity (their last convolution zero), so a
 * deeper decoder begins as exactly the source's and trains on from there; another width starts
 * fresh. The caller disposes the state.
 */
export async function decoderOnlyStart(fromDir: string, decoder: { width?: number; resBlocks?: number }): Promise<{ config: TokenizerConfig; state: TokenizerState; tokens: TokenIdentity }> {
  const from = await loadTokenizerRun(fromDir);
  const fc = from.config;
  const config: TokenizerConfig = {
    ...fc, width: decoder.width ?? fc.width, resBlocks: decoder.resBlocks ?? fc.resBlocks,
    encoderWidth: fc.encoderWidth ?? fc.width, encoderResBlocks: fc.encoderResBlocks ?? fc.resBlocks,
  };
  const state = new TokenizerState(config);
  const { vqvae: src } = from.state;
  state.vqvae.encoder.loadStateDict(src.encoder.stateDict());
  state.vqvae.quantizer.loadStateDict(src.quantizer.stateDict());
  if (fc.width === config.width) growDecoder(state.vqvae.decoder, src.decoder);
  from.state.dispose();
  return { config, state, tokens: { checksum: checkpointChecksum(from.ckpt.path), from: fromDir } };
}
