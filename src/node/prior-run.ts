// Prior run folders and token caches on disk: loading with checks that name both sides when a file
// of the wrong kind, or from another tokenizer, is given.

import { readFileSync, statSync } from 'node:fs';
import { checkPriorConfig, type PriorConfig } from '../models/prior/config.js';
import { Prior } from '../models/prior/prior.js';
import { decodeTokenCache, type TokenCache } from '../data/token-cache.js';
import { expectRunKind, loadLatestCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { samplingPrefix } from '../io/run-loader.js';
import { loadSafetensorsInto } from '../io/state.js';

export function readTokenCache(path: string): TokenCache {
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
  } catch {
    throw new Error(`Token cache '${path}' does not exist (make one with \`vqgpu encode --run TOKRUN --out ${path}\`).`);
  }
  return decodeTokenCache(new Uint8Array(readFileSync(path)), `token cache '${path}'`);
}

export interface LoadedPrior {
  prior: Prior;
  config: PriorConfig;
  ckpt: LoadedCheckpoint;
}

/**
 * The prior of a run folder's newest checkpoint, for sampling and evaluation: the average of its
 * weights where the run kept one (`train-prior --ema`), else its trained weights; `weights:
 * 'model'` takes the trained weights regardless.
 */
export async function loadPriorRun(dir: string, weights: 'ema' | 'model' = 'ema'): Promise<LoadedPrior> {
  const probe = await loadLatestCheckpoint(dir);
  if (!probe) throw new Error(`'${dir}' holds no checkpoint (expected a run folder made by \`vqgpu train-prior --out ${dir}\`).`);
  expectRunKind(probe, 'prior', `'${dir}'`);
  const config = checkPriorConfig((probe.config as { prior?: unknown } | undefined)?.prior, probe.path);
  const prior = new Prior(config);
  loadSafetensorsInto(prior, probe.decoded, { prefix: samplingPrefix(probe.decoded, weights) });
  prior.eval();
  return { prior, config, ckpt: probe };
}

/** Refuses a cache that does not match a prior (codebook, grid, tokenizer), naming both sides. */
export function checkCacheMatchesPrior(cache: TokenCache, cachePath: string, c: PriorConfig, priorPath: string): void {
  const h = cache.header;
  if (h.codebook !== c.codebook || h.grid !== c.grid) {
    throw new Error(`token cache '${cachePath}' has ${h.codebook} codes on a ${h.grid}×${h.grid} grid, but prior '${priorPath}' was trained for ${c.codebook} codes on ${c.grid}×${c.grid}.`);
  }
  if (h.tokenizer.checksum !== c.tokenizerChecksum) {
    throw new Error(`token cache '${cachePath}' was made by tokenizer ${h.tokenizer.checksum} (${h.tokenizer.path}), but prior '${priorPath}' was trained on tokens of tokenizer ${c.tokenizerChecksum}.`);
  }
}
