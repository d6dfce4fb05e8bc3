// GPU tensors ⇄ safetensors: encode a module's state dict (or any named tensors) and load a
// decoded file back into a module's parameters in place. Browser-safe. Model configuration travels
// as JSON in the `__metadata__` entry under the key "config".

import { runtime } from '../device/runtime.js';
import { checkStateDict, Module } from '../nn/module.js';
import { tensor, type DType, type Tensor } from '../tensor/tensor.js';
import { widenDecodedF16, widenF16 } from './f16.js';
import { decodeSafetensors, encodeSafetensors, type DecodedSafetensors, type HostTensor, type SafetensorsDType } from './safetensors.js';

const TO_FILE: Record<DType, SafetensorsDType> = { f32: 'F32', i32: 'I32', u32: 'U32' };
const FROM_FILE: Partial<Record<SafetensorsDType, DType>> = { F32: 'f32', I32: 'i32', U32: 'u32' };

/** The metadata key holding the model configuration as JSON. */
export const CONFIG_KEY = 'config';

function named(source: Module | Record<string, Tensor>): Record<string, Tensor> {
  return source instanceof Module ? source.stateDict() : source;
}

/** Reads tensors back to the host (waits for the GPU: call between steps, not inside one). */
export async function toHostTensors(tensors: Record<string, Tensor>): Promise<Record<string, HostTensor>> {
  const out: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = { dtype: TO_FILE[t.dtype], shape: [...t.shape], data: await t.toArray() };
  return out;
}

/** A new GPU tensor holding a decoded F32/I32/U32 tensor (F16 is widened to F32 first). */
export function fromHostTensor(h: HostTensor, name = ''): Tensor {
  h = widenF16(h);
  const dtype = FROM_FILE[h.dtype];
  if (!dtype) throw new Error(`safetensors: tensor '${name}' has dtype ${h.dtype}; only F32, I32 and U32 load onto the GPU.`);
  return tensor(h.data as Float32Array | Int32Array | Uint32Array, h.shape, dtype);
}

/** Serialises a module's state dict (or named tensors) with string metadata. */
export async function stateDictToSafetensors(source: Module | Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  return encodeSafetensors(await toHostTensors(named(source)), metadata);
}

export interface LoadOptions {
  /** require the file's keys (after `prefix`) to match the module's exactly (default true) */
  strict?: boolean;
  /** only file keys starting with this prefix are considered, with the prefix removed (e.g. "model.") */
  prefix?: string;
}

/**
 * Writes decoded tensors into a module's parameters and buffers (or into named tensors) in place.
 * Keys, shapes and dtypes are checked first; all problems are reported in one Error. F16 tensors
 * (shipped models) are widened to F32 on the host: they load into f32 parameters.
 */
export function loadSafetensorsInto(target: Module | Record<string, Tensor>, decoded: DecodedSafetensors, opts: LoadOptions = {}): void {
  decoded = widenDecodedF16(decoded);
  const prefix = opts.prefix ?? '';
  const source: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(decoded.tensors)) if (k.startsWith(prefix)) source[k.slice(prefix.length)] = t;
  const own = named(target);
  const who = target instanceof Module ? `loadSafetensorsInto(${target.constructor.name})` : 'loadSafetensorsInto';
  checkStateDict(own, source, who, { strict: opts.strict, dtypeOf: (d) => FROM_FILE[d as SafetensorsDType] ?? d });
  const rt = runtime();
  for (const [k, t] of Object.entries(own)) {
    const s = Object.prototype.hasOwnProperty.call(source, k) ? source[k] : undefined;
    if (!s) continue;
    if (!t.isContiguous) throw new Error(`${who}: target '${k}' is a strided view; load into dense tensors.`);
    if (t.size) rt.write(t.buffer, 0, s.data);
  }
}

/** The model configuration stored under metadata "config" (null when absent). */
export function configFromMetadata<T = unknown>(decoded: DecodedSafetensors): T | null {
  const s = decoded.metadata[CONFIG_KEY];
  if (s === undefined) return null;
  try {
    return JSON.parse(s) as T;
  } catch (e) {
    throw new Error(`safetensors: metadata '${CONFIG_KEY}' is not valid JSON (${(e as Error).message}).`);
  }
}

export { decodeSafetensors, encodeSafetensors };
