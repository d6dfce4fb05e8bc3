// Training checkpoints as bytes (browser-safe): the format `vqgpu train-*` writes and `--resume`,
// `eval-tokenizer`, `encode` and `sample` read. One safetensors file per checkpoint holds the
// model's state dict ("model." prefix), the optimizer state ("optim." prefix, or "optim.<name>."
// for named optimizers) and, in the metadata, the format, step, optimizer step counts, RNG state,
// config and extras as JSON. A run folder holds `ckpt-<step>.safetensors` files and `latest.json`
// naming the newest. Node writes them to disk (src/node/checkpoint.ts), the page to its origin's
// private file system (examples/web/train/opfs-run.ts): the same bytes either way.

import { CHECKPOINT_FORMAT, hasEMA } from './run-loader.js';
import { decodeSafetensors, encodeSafetensors, type DecodedSafetensors } from './safetensors.js';
import { fromHostTensor, loadSafetensorsInto, toHostTensors } from './state.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';

export const FORMAT = CHECKPOINT_FORMAT;
export const LATEST = 'latest.json';
export const FILE_RE = /^ckpt-(\d+)\.safetensors$/;

/** The optimizers of a checkpoint: one (`optimizer`) or several by name (`optimizers`, e.g. a GAN's g and d). */
export interface CheckpointOptimizers {
  optimizer?: Optimizer;
  optimizers?: Record<string, Optimizer>;
}

/** Each optimizer with its tensor-name prefix and step metadata key. */
function optimizerEntries(o: CheckpointOptimizers): { opt: Optimizer; prefix: string; stepKey: string }[] {
  const out = o.optimizer ? [{ opt: o.optimizer, prefix: 'optim.', stepKey: 'optimizer_step' }] : [];
  for (const [name, opt] of Object.entries(o.optimizers ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`checkpoint: optimizer name '${name}' must be an identifier (letters, digits, '_'; not a number).`);
    out.push({ opt, prefix: `optim.${name}.`, stepKey: `optimizer_step.${name}` });
  }
  return out;
}

export interface CheckpointContents extends CheckpointOptimizers {
  model: Module;
  /** an average of the model's weights for sampling (src/nn/ema.ts), stored under "ema." */
  ema?: Module;
  /** the training step this checkpoint follows */
  step: number;
  /** RNG state of the training loop (JSON-serialisable) */
  rng?: unknown;
  /** model/training configuration (JSON-serialisable), stored as metadata "config" */
  config?: unknown;
  /** anything else JSON-serialisable (data-loader position, EMA of the loss, ...) */
  extra?: unknown;
}

export function checkpointName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`checkpoint step must be a non-negative integer, got ${step}.`);
  return `ckpt-${String(step).padStart(6, '0')}.safetensors`;
}

/** The text of `latest.json` pointing at the checkpoint of `step`. */
export function latestPointer(step: number): string {
  return JSON.stringify({ file: checkpointName(step), step }) + '\n';
}

/** The checkpoint file as bytes. Reads the GPU state (waits for the GPU: call between steps). */
export async function encodeCheckpoint(c: CheckpointContents): Promise<Uint8Array> {
  const named: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(c.model.stateDict())) named[`model.${k}`] = t;
  for (const [k, t] of Object.entries(c.ema?.stateDict() ?? {})) named[`ema.${k}`] = t;
  const metadata: Record<string, string> = { format: FORMAT, step: String(c.step) };
  if (c.optimizer && c.optimizers) throw new Error('saveCheckpoint: give `optimizer` or `optimizers`, not both.');
  for (const { opt, prefix, stepKey } of optimizerEntries(c)) {
    const s = opt.stateDict();
    for (const [k, t] of Object.entries(s.tensors)) named[prefix + k] = t;
    metadata[stepKey] = String(s.step);
  }
  if (c.rng !== undefined) metadata.rng = JSON.stringify(c.rng);
  if (c.config !== undefined) metadata.config = JSON.stringify(c.config);
  if (c.extra !== undefined) metadata.extra = JSON.stringify(c.extra);
  return encodeSafetensors(await toHostTensors(named), metadata);
}

export interface LoadedCheckpoint {
  path: string;
  step: number;
  rng: unknown;
  config: unknown;
  extra: unknown;
  /** the whole decoded file (tensors by prefixed name, metadata) */
  decoded: DecodedSafetensors;
  /** newer checkpoint files that could not be read, with the reason (empty normally) */
  skipped: string[];
}

function parseJson(meta: Record<string, string>, key: string, path: string): unknown {
  if (meta[key] === undefined) return undefined;
  try {
    return JSON.parse(meta[key]);
  } catch {
    throw new Error(`checkpoint ${path}: metadata '${key}' is not valid JSON.`);
  }
}

/** Decodes a checkpoint file's bytes (`path` names it in messages); throws on another format. */
export function decodeCheckpoint(bytes: Uint8Array, path: string): LoadedCheckpoint {
  const decoded = decodeSafetensors(bytes);
  const meta = decoded.metadata;
  if (meta.format !== FORMAT) throw new Error(`checkpoint ${path}: format '${meta.format}' is not '${FORMAT}'.`);
  const step = Number(meta.step);
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`checkpoint ${path}: bad step '${meta.step}'.`);
  return {
    path, step, decoded, skipped: [],
    rng: parseJson(meta, 'rng', path), config: parseJson(meta, 'config', path), extra: parseJson(meta, 'extra', path),
  };
}

export interface RestoreTargets extends CheckpointOptimizers {
  model?: Module;
  /** the weight average's shadow model: loaded from "ema." when the checkpoint has it (see `hasEMA`) */
  ema?: Module;
}

/** Restores a loaded checkpoint into a model and optimizers (named as when it was saved). */
export function restoreCheckpoint(ckpt: LoadedCheckpoint, targets: RestoreTargets): void {
  const { decoded, path } = ckpt;
  if (targets.model) loadSafetensorsInto(targets.model, decoded, { prefix: 'model.' });
  if (targets.ema && hasEMA(decoded)) loadSafetensorsInto(targets.ema, decoded, { prefix: 'ema.' });
  for (const { opt, prefix, stepKey } of optimizerEntries(targets)) {
    const step = Number(decoded.metadata[stepKey]);
    if (decoded.metadata[stepKey] === undefined || !Number.isSafeInteger(step)) {
      throw new Error(`checkpoint ${path} holds no state for optimizer '${prefix.slice(0, -1)}' (metadata '${stepKey}').`);
    }
    const tensors: Record<string, Tensor> = {};
    try {
      for (const [k, h] of Object.entries(decoded.tensors)) {
        // 'optim.0.exp_avg' belongs to the single optimizer; 'optim.g.0.exp_avg' to optimizer 'g'
        const rest = k.startsWith(prefix) ? k.slice(prefix.length) : null;
        if (rest !== null && /^\d+\./.test(rest)) tensors[rest] = fromHostTensor(h, k);
      }
      opt.loadStateDict({ step, tensors });
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
  }
}

/** The kinds of run folder the CLI writes; the checkpoint's config says which one it is. */
export type RunKind = 'tokenizer' | 'prior' | 'classifier';

/** What a checkpoint's config says it is, in words: "a tokenizer run (16 codes, 4×4 tokens of 16 px)". */
export function describeRun(config: unknown): { kind: RunKind | null; text: string } {
  const c = (config ?? {}) as {
    tokenizer?: { kind?: string; codebook?: number; grid?: number; size?: number };
    prior?: { kind?: string; prior?: string; codebook?: number; grid?: number };
    classifier?: { kind?: string; classes?: unknown[]; size?: number };
  };
  if (c.tokenizer?.kind === 'vqgpu-tokenizer') {
    const t = c.tokenizer;
    return { kind: 'tokenizer', text: `a tokenizer run (${t.codebook} codes, ${t.grid}×${t.grid} tokens of ${t.size} px images)` };
  }
  if (c.prior?.kind === 'vqgpu-prior') {
    const p = c.prior;
    return { kind: 'prior', text: `a prior run (${p.prior} prior over ${p.codebook} codes on ${p.grid}×${p.grid})` };
  }
  if (c.classifier?.kind === 'vqgpu-classifier') {
    const k = c.classifier;
    return { kind: 'classifier', text: `a classifier run (${k.classes?.length} classes of ${k.size} px images)` };
  }
  return { kind: null, text: 'a checkpoint of unknown kind (no tokenizer, prior or classifier config)' };
}

const MADE_BY: Record<RunKind, string> = { tokenizer: 'vqgpu train-tokenizer', prior: 'vqgpu train-prior', classifier: 'vqgpu train-classifier' };

/**
 * Refuses a checkpoint of the wrong kind (a prior given where a tokenizer is needed, or the other
 * way), naming both sides: what `what` (e.g. "--run /tmp/x") is and what was expected.
 */
export function expectRunKind(ckpt: LoadedCheckpoint, want: RunKind, what: string): void {
  const d = describeRun(ckpt.config);
  if (d.kind === want) return;
  throw new Error(`${what} is ${d.text} (${ckpt.path}), but a ${want} run made by \`${MADE_BY[want]}\` is needed here.`);
}
