// The Module base: a tree of named parameters, buffers and child modules, registered explicitly
// (`this.param`, `this.buffer`, `this.child`) so names and order are deterministic — the order of
// registration, depth first. Dotted names ("blocks.0.attn.weight") key state dicts and checkpoints.
//
// Parameters and buffers are kept tensors (outside every tidy scope) owned by the module until
// `dispose()`. Parameters require gradients; buffers (e.g. running statistics, EMA codebooks) do not.

import { copyInto } from '../ops/layout.js';
import { fmt, sameShape } from '../ops/launch.js';
import { keep } from '../tensor/scope.js';
import type { Shape, Tensor } from '../tensor/tensor.js';

type Entry =
  | { kind: 'param' | 'buffer'; name: string; tensor: Tensor }
  | { kind: 'child'; name: string; module: Module };

/** Marks `t` as a trainable parameter: kept (outlives tidy scopes) and requiring a gradient. */
export function parameter(t: Tensor): Tensor {
  keep(t);
  t.requiresGrad = true;
  return t;
}

/** What a state-dict check needs of a tensor (a GPU Tensor or a decoded host tensor). */
export interface ShapedDType {
  shape: Shape;
  dtype: string;
}

/**
 * Compares a source state against a module's: missing keys, unexpected keys and shape/dtype
 * mismatches are all reported in one Error. `dtypeOf` maps a source dtype to ours (for host data).
 */
export function checkStateDict(
  target: Record<string, ShapedDType>,
  source: Record<string, ShapedDType>,
  who: string,
  opts: { strict?: boolean; dtypeOf?: (s: string) => string } = {},
): void {
  const strict = opts.strict ?? true;
  const dtypeOf = opts.dtypeOf ?? ((s: string) => s);
  const missing = Object.keys(target).filter((k) => !Object.prototype.hasOwnProperty.call(source, k));
  const unexpected = Object.keys(source).filter((k) => !Object.prototype.hasOwnProperty.call(target, k));
  const mismatched: string[] = [];
  for (const [k, t] of Object.entries(target)) {
    const s = Object.prototype.hasOwnProperty.call(source, k) ? source[k] : undefined;
    if (s && (!sameShape(s.shape, t.shape) || dtypeOf(s.dtype) !== t.dtype)) {
      mismatched.push(`'${k}' is ${s.dtype}${fmt(s.shape)} in the source, ${t.dtype}${fmt(t.shape)} in the module`);
    }
  }
  const problems: string[] = [];
  if (strict && missing.length) problems.push(`missing keys: ${missing.map((k) => `'${k}'`).join(', ')}`);
  if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.map((k) => `'${k}'`).join(', ')}`);
  if (mismatched.length) problems.push(`shape/dtype mismatches: ${mismatched.join('; ')}`);
  if (problems.length) throw new Error(`${who}: ${problems.join('. ')}.`);
}

export class Module {
  /** false after `eval()`: Dropout and other train-only behaviour switch off */
  training = true;
  private entries: Entry[] = [];

  private register(e: Entry): void {
    if (!/^[A-Za-z0-9_]+$/.test(e.name)) {
      throw new Error(`${this.constructor.name}: name '${e.name}' must be letters, digits or '_' (dots separate levels).`);
    }
    if (this.entries.some((x) => x.name === e.name)) throw new Error(`${this.constructor.name}: '${e.name}' is already registered.`);
    this.entries.push(e);
  }

  /** Registers a trainable parameter (kept, requiresGrad); returns it. */
  protected param(name: string, t: Tensor): Tensor {
    this.register({ kind: 'param', name, tensor: parameter(t) });
    t.name = name;
    return t;
  }

  /** Registers non-trainable state that belongs in the state dict; returns it. */
  protected buffer(name: string, t: Tensor): Tensor {
    this.register({ kind: 'buffer', name, tensor: keep(t) });
    t.name = name;
    return t;
  }

  /** Registers a child module; returns it. */
  protected child<M extends Module>(name: string, m: M): M {
    if (m === (this as Module)) throw new Error(`${this.constructor.name}: a module cannot be its own child.`);
    this.register({ kind: 'child', name, module: m });
    return m;
  }

  /** [dotted name, parameter] in registration order, depth first. */
  namedParameters(prefix = ''): [string, Tensor][] {
    return this.walk(prefix, 'param');
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    return this.walk(prefix, 'buffer');
  }

  /** [dotted name, module] of every descendant (not this module), registration order. */
  namedChildren(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    for (const e of this.entries) {
      if (e.kind !== 'child') continue;
      const name = prefix + e.name;
      out.push([name, e.module], ...e.module.namedChildren(`${name}.`));
    }
    return out;
  }

  private walk(prefix: string, kind: 'param' | 'buffer', out: [string, Tensor][] = []): [string, Tensor][] {
    for (const e of this.entries) {
      if (e.kind === 'child') e.module.walk(`${prefix}${e.name}.`, kind, out);
      else if (e.kind === kind) out.push([prefix + e.name, e.tensor]);
    }
    return out;
  }

  /** Number of trainable scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /**
   * Parameters and buffers by dotted name, in registration order. These are the live tensors, not
   * copies: read them (or encode them, see io/state.ts) before the next optimizer step changes them.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, t] of this.walk('', 'param')) out[k] = t;
    for (const [k, t] of this.walk('', 'buffer')) out[k] = t;
    return out;
  }

  /**
   * Copies `state` into this module's parameters and buffers in place (on the GPU, so optimizers
   * holding the parameters keep working). With `strict` (default) the keys must match exactly;
   * shapes and dtypes must always match. All problems are reported in one Error, before any copy.
   */
  loadStateDict(state: Record<string, Tensor>, opts: { strict?: boolean } = {}): void {
    const own = this.stateDict();
    checkStateDict(own, state, `${this.constructor.name}.loadStateDict`, opts);
    for (const [k, t] of Object.entries(own)) {
      if (Object.prototype.hasOwnProperty.call(state, k) && state[k] !== t) copyInto(state[k], t);
    }
  }

  /** Sets training mode here and in every descendant; returns this. */
  train(on = true): this {
    this.training = on;
    for (const e of this.entries) if (e.kind === 'child') e.module.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Frees every parameter and buffer (and their gradients) of this module and its descendants. */
  dispose(): void {
    for (const e of this.entries) {
      if (e.kind === 'child') e.module.dispose();
      else {
        e.tensor.grad?.dispose();
        e.tensor.grad = null;
        e.tensor.dispose();
      }
    }
  }
}
