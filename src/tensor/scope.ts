// Deterministic release: `tidy(fn)` disposes every tensor created inside fn except those it
// returns (which move to the enclosing scope) and those marked with `keep`. Parameters, optimizer
// state and gradients are kept; everything a training step makes in between is freed at its end.

import type { Tensor } from './tensor.js';

const scopes: Set<Tensor>[] = [];

export function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Takes `t` out of every enclosing scope: the caller now owns it and must dispose it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

type Tensors = Tensor | Tensor[] | Record<string, Tensor> | void | number | undefined | null;

function collect(result: unknown, out: Set<Tensor>): void {
  if (!result || typeof result !== 'object') return;
  if ((result as Tensor).storage !== undefined && (result as Tensor).shape !== undefined) {
    out.add(result as Tensor);
  } else if (Array.isArray(result)) {
    for (const r of result) collect(r, out);
  } else if (Object.getPrototypeOf(result) === Object.prototype) {
    for (const r of Object.values(result)) collect(r, out);
  }
}

export function tidy<T extends Tensors | unknown>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) throw new Error('tidy(): the function must be synchronous (await outside the scope).');
  const returned = new Set<Tensor>();
  collect(result, returned);
  for (const t of scope) {
    if (returned.has(t)) scopes[scopes.length - 1]?.add(t);
    else t.dispose();
  }
  return result;
}

/** Number of tensors tracked by open scopes (diagnostics). */
export function scopeDepth(): number {
  return scopes.length;
}
