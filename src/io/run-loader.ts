// Checkpoints made by the Node CLI (`vqgpu train-tokenizer`, `vqgpu train-prior`), loaded from their
// bytes: browser-safe, so the web page opens the same files the CLI writes. A checkpoint is one
// safetensors file: the module state under "model.", the optimizer state under "optim." (ignored
// here) and metadata `format`, `step` and `config` (JSON: {tokenizer: TokenizerConfig, ...} or
// {prior: PriorConfig, ...}). The config alone rebuilds the model; then the weights are loaded.

import { checkPriorConfig, type PriorConfig } from '../models/prior/config.js';
import { Prior } from '../models/prior/prior.js';
import { checkTokenizerConfig, type TokenizerConfig } from '../models/tokenizer/config.js';
import { TokenizerState } from '../models/tokenizer/state.js';
import { decodeSafetensors, type DecodedSafetensors } from './safetensors.js';
import { loadSafetensorsInto } from './state.js';

/** The `format` metadata of every checkpoint the CLI writes (src/node/checkpoint.ts). */
export const CHECKPOINT_FORMAT = 'vqgpu-checkpoint/1';

export type CheckpointKind = 'tokenizer' | 'prior';

export interface ParsedCheckpoint {
  /** where it came from (a file name), for messages */
  source: string;
  kind: CheckpointKind;
  step: number;
  /** config.tokenizer or config.prior, checked */
  config: TokenizerConfig | PriorConfig;
  decoded: DecodedSafetensors;
}

/**
 * Decodes a checkpoint file and says what it holds. Throws, naming `source`, when the bytes are not
 * safetensors, not a vqgpu checkpoint, or a checkpoint of neither a tokenizer nor a prior.
 */
export function parseCheckpoint(bytes: Uint8Array, source: string): ParsedCheckpoint {
  let decoded: DecodedSafetensors;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    throw new Error(`${source} is not a safetensors file (${(e as Error).message}).`);
  }
  const meta = decoded.metadata;
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new Error(`${source} is not a vqgpu checkpoint (metadata format '${meta.format ?? 'none'}', expected '${CHECKPOINT_FORMAT}').`);
  }
  const step = Number(meta.step);
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`${source}: bad step '${meta.step}'.`);
  let config: { tokenizer?: unknown; prior?: unknown } | undefined;
  try {
    config = meta.config === undefined ? undefined : JSON.parse(meta.config);
  } catch {
    throw new Error(`${source}: metadata 'config' is not valid JSON.`);
  }
  if (config?.tokenizer !== undefined) {
    return { source, kind: 'tokenizer', step, config: checkTokenizerConfig(config.tokenizer, source), decoded };
  }
  if (config?.prior !== undefined) {
    return { source, kind: 'prior', step, config: checkPriorConfig(config.prior, source), decoded };
  }
  throw new Error(`${source} is a checkpoint of neither a tokenizer nor a prior (its config has no 'tokenizer' or 'prior' entry).`);
}

/** Whether a checkpoint holds an average of the weights ("ema." tensors). */
export function hasEMA(decoded: DecodedSafetensors): boolean {
  return Object.keys(decoded.tensors).some((k) => k.startsWith('ema.'));
}

/**
 * The prefix of the weights to sample with: the average ("ema.") where the run kept one, else the
 * trained weights ("model."); `weights: 'model'` asks for the trained ones regardless.
 */
export function samplingPrefix(decoded: DecodedSafetensors, weights: 'ema' | 'model' = 'ema'): 'ema.' | 'model.' {
  return weights === 'ema' && hasEMA(decoded) ? 'ema.' : 'model.';
}

function expectKind(ck: ParsedCheckpoint, want: CheckpointKind): void {
  if (ck.kind !== want) {
    const made = want === 'tokenizer' ? 'vqgpu train-tokenizer' : 'vqgpu train-prior';
    throw new Error(`${ck.source} is a ${ck.kind} checkpoint, but a ${want} checkpoint (made by \`${made}\`) is needed here.`);
  }
}

/** The tokenizer of a parsed checkpoint, weights loaded, in eval mode. */
export function tokenizerFromCheckpoint(ck: ParsedCheckpoint): TokenizerState {
  expectKind(ck, 'tokenizer');
  const state = new TokenizerState(ck.config as TokenizerConfig);
  try {
    loadSafetensorsInto(state, ck.decoded, { prefix: 'model.' });
  } catch (e) {
    state.dispose();
    throw new Error(`${ck.source}: ${(e as Error).message}`);
  }
  state.eval();
  return state;
}

/** The prior of a parsed checkpoint, its sampling weights loaded (the average where kept), in eval mode. */
export function priorFromCheckpoint(ck: ParsedCheckpoint): Prior {
  expectKind(ck, 'prior');
  const prior = new Prior(ck.config as PriorConfig);
  try {
    loadSafetensorsInto(prior, ck.decoded, { prefix: samplingPrefix(ck.decoded) });
  } catch (e) {
    prior.dispose();
    throw new Error(`${ck.source}: ${(e as Error).message}`);
  }
  prior.eval();
  return prior;
}

/** A tokenizer checkpoint's bytes → the tokenizer (call `init()` first). */
export function loadTokenizer(bytes: Uint8Array, source: string): TokenizerState {
  return tokenizerFromCheckpoint(parseCheckpoint(bytes, source));
}

/** A prior checkpoint's bytes → the prior (call `init()` first). */
export function loadPrior(bytes: Uint8Array, source: string): Prior {
  return priorFromCheckpoint(parseCheckpoint(bytes, source));
}

/** Refuses a prior whose codes or grid differ from the tokenizer's, naming both. */
export function checkPriorMatchesTokenizer(prior: PriorConfig, priorSource: string, tok: TokenizerConfig, tokSource: string): void {
  if (prior.codebook !== tok.codebook || prior.grid !== tok.grid) {
    throw new Error(`${priorSource} was trained for ${prior.codebook} codes on ${prior.grid}×${prior.grid}, but tokenizer ${tokSource} has ${tok.codebook} codes on ${tok.grid}×${tok.grid}.`);
  }
}
