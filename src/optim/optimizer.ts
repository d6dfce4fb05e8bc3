// The optimizer base: parameter groups, per-parameter state created on the first step (and kept),
// optional global-norm clipping read by the update kernels on the GPU, learning-rate schedules
// evaluated on the host, and state dicts for checkpoints. Whenever the global gradient norm is
// computed (clipNorm set, or skipNonFinite), a step whose gradients hold a NaN or Inf is skipped on
// the GPU (parameters and state untouched) and counted, with no readback. A subclass supplies one fused kernel
// launch per parameter (`update`) and may supply a multi-tensor one (`updateFlat`, see flat.ts): then,
// unless `foreach: false`, a warm `step()` records copies plus one update dispatch per run of
// parameters sharing their hyper-parameters (and 2 for the norm), else one dispatch per parameter
// (plus 1 + #params for the norm); either way it creates no GPU buffer (the per-parameter path
// first moves a gradient that starts at an offset into a pooled buffer of its own: `ownGrad`).
// Parameters larger than `flatMaxElements` take the per-parameter path even then: their gather
// and scatter copies cost more than the dispatch they share (lavapipe, 16 × 262,144 parameters:
// 66 Mparam/s flat against 124 per tensor; at 64 × 16,384 the flat path leads, 124 against 103).

import { zeros } from '../ops/creation.js';
import { copyInto } from '../ops/layout.js';
import { fmt, sameShape } from '../ops/launch.js';
import { keep } from '../tensor/scope.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { checkGrad, GradNorm, ownGrad, scaleInPlace } from './clip.js';
import { FlatBuffers, type FlatRun } from './flat.js';

/** The learning rate for a 0-based step index (see schedule.ts). */
export type LrSchedule = (step: number) => number;

export interface ParamGroup {
  params: readonly Tensor[];
  /** overrides the optimizer's weight decay for these parameters (e.g. 0 for biases and norms) */
  weightDecay?: number;
  /** multiplies the learning rate for these parameters */
  lrScale?: number;
}

export interface OptimizerOptions {
  /** a constant or a schedule of the step index */
  lr: number | LrSchedule;
  weightDecay?: number;
  /** clip gradients to this global L2 norm before every step (on the GPU, no readback) */
  clipNorm?: number;
  /** skip (and count) steps with non-finite gradients even without clipping (always on with clipNorm) */
  skipNonFinite?: boolean;
  /**
   * Multi-tensor step over flat copies of the parameters (default true where the optimizer has
   * one): a few dispatches per step instead of one or two per parameter. Same arithmetic.
   */
  foreach?: boolean;
  /** the largest parameter (elements) the multi-tensor step takes; larger ones are updated per tensor (default FLAT_MAX_ELEMENTS) */
  flatMaxElements?: number;
}

/** The default of `flatMaxElements`: 65,536 elements (256 KiB). */
export const FLAT_MAX_ELEMENTS = 1 << 16;

/**
 * TEST HOOK (fault injection), off unless set: the optimizer step whose 1-based number equals
 * `nanGradAtStep` first turns its first gradient into NaN, as a diverging loss would. The CLI sets
 * it from the environment variable VQGPU_TEST_NAN_STEP; nothing else should.
 */
export const faultInjection = { nanGradAtStep: 0 };

export interface OptimizerState {
  /** completed steps */
  step: number;
  /** `<param index>.<state name>` → tensor shaped like the parameter */
  tensors: Record<string, Tensor>;
}

/** What a subclass's kernel needs for one parameter. */
export interface UpdateArgs {
  param: Tensor;
  grad: Tensor;
  /** this parameter's state tensors, by name (zeros when `fresh`) */
  state: Record<string, Tensor>;
  /** true on the first update of this parameter since its state was created */
  fresh: boolean;
  /** [1] f32 on the GPU: the clip factor, or 1 */
  gradScale: Tensor;
  lr: number;
  weightDecay: number;
}

/** What a subclass's multi-tensor kernel needs for one run of parameters (flat.ts). */
export interface FlatUpdateArgs {
  flat: FlatBuffers;
  run: FlatRun;
  gradScale: Tensor;
  lr: number;
  weightDecay: number;
}

interface Slot {
  param: Tensor;
  weightDecay: number;
  lrScale: number;
  state: Record<string, Tensor> | null;
  fresh: boolean;
}

export abstract class Optimizer {
  lr: number | LrSchedule;
  clipNorm: number | null;
  /** compute the gradient norm even without clipping, to skip steps with non-finite gradients */
  skipNonFinite: boolean;
  /** completed steps (skipped ones included); bias corrections and schedules use it */
  stepCount = 0;
  private slots: Slot[];
  private norm: GradNorm | null = null;
  private one: Tensor | null = null;
  private readonly foreach: boolean;
  private readonly flatMax: number;
  private flat: FlatBuffers | null = null;

  /** names of the per-parameter state tensors this optimizer keeps (may depend on its options) */
  protected abstract readonly stateNames: readonly string[];
  protected abstract update(args: UpdateArgs): void;
  /** The multi-tensor update of one run (optional; used unless `foreach: false`). */
  protected updateFlat?(args: FlatUpdateArgs): void;

  constructor(params: readonly Tensor[] | readonly ParamGroup[], opts: OptimizerOptions, readonly name: string) {
    const groups: readonly ParamGroup[] = params.length && !('params' in params[0])
      ? [{ params: params as readonly Tensor[] }]
      : (params as readonly ParamGroup[]);
    const wd = opts.weightDecay ?? 0;
    this.slots = [];
    const seen = new Set<Tensor>();
    for (const g of groups) {
      for (const p of g.params) {
        if (seen.has(p)) throw new Error(`${name}: parameter '${p.name}' ${fmt(p.shape)} is listed twice.`);
        seen.add(p);
        if (p.dtype !== 'f32' || !p.isContiguous) throw new Error(`${name}: parameter '${p.name}' must be a dense f32 tensor, got ${p}.`);
        this.slots.push({ param: p, weightDecay: g.weightDecay ?? wd, lrScale: g.lrScale ?? 1, state: null, fresh: true });
      }
    }
    if (!this.slots.length) throw new Error(`${name}: no parameters to optimize.`);
    this.lr = opts.lr;
    this.clipNorm = opts.clipNorm ?? null;
    this.skipNonFinite = opts.skipNonFinite ?? false;
    this.foreach = opts.foreach ?? true;
    this.flatMax = opts.flatMaxElements ?? FLAT_MAX_ELEMENTS;
    if (!(this.flatMax >= 0)) throw new Error(`${name}: flatMaxElements must be ≥ 0, got ${this.flatMax}.`);
  }

  get params(): Tensor[] {
    return this.slots.map((s) => s.param);
  }

  /** The learning rate the next `step()` uses. */
  get currentLr(): number {
    return typeof this.lr === 'number' ? this.lr : this.lr(this.stepCount);
  }

  /**
   * The global gradient norm of the last step (before clipping), a kept [1] tensor overwritten by
   * every step; null unless `clipNorm` is set. `await opt.gradNorm.item()` waits for the GPU.
   */
  get gradNorm(): Tensor | null {
    return this.norm?.norm ?? null;
  }

  /**
   * [1] on the GPU: the factor the last step scaled gradients by; 0 when that step was skipped for
   * non-finite gradients (null when no norm is computed). Other state updates of the same step
   * (e.g. an EMA codebook) read it to skip too.
   */
  get stepFactor(): Tensor | null {
    return this.norm?.scale ?? null;
  }

  /**
   * Steps skipped so far because their gradients held a NaN or Inf (counted on the GPU; reading
   * waits for it, so call at log time). Always 0 when the norm is not computed.
   */
  async skippedSteps(): Promise<number> {
    return this.norm ? (await this.norm.skipped.item()) : 0;
  }

  /** One update of every parameter that has a gradient (others are skipped, their state untouched). */
  step(): void {
    const lr = this.currentLr;
    if (!Number.isFinite(lr)) throw new Error(`${this.name}: learning rate ${lr} at step ${this.stepCount} is not finite.`);
    this.stepCount++;
    const active = this.slots.filter((s) => s.param.grad);
    for (const s of active) checkGrad(s.param, s.param.grad!, this.name);
    const flat = this.flatBuffers();
    const own = (i: number) => !flat || !this.inFlat(i);
    // The per-parameter kernels read each gradient from element 0 (the flat gather copies from any offset).
    this.slots.forEach((s, i) => s.param.grad && own(i) && ownGrad(s.param));
    if (faultInjection.nanGradAtStep === this.stepCount && active.length) poison(ownGrad(active[0].param));
    if (flat) flat.gather(this.params, this.slots.map((s, i) => (own(i) ? null : s.param.grad)));
    let gradScale: Tensor;
    if (this.clipNorm !== null || this.skipNonFinite) {
      this.norm ??= new GradNorm();
      // The flat gradients hold exactly this step's gradients of their slots (zeros elsewhere): the same norm.
      const grads = this.slots.flatMap((s, i) => (s.param.grad && own(i) ? [s.param.grad] : []));
      this.norm.compute(flat ? [flat.grads, ...grads] : grads, this.clipNorm ?? Infinity);
      gradScale = this.norm.scale;
    } else {
      gradScale = this.one ??= keep(tensor([1]));
    }
    if (flat) this.stepFlat(flat, gradScale, lr);
    this.slots.forEach((s, i) => {
      if (!s.param.grad || !own(i)) return;
      const state = (s.state ??= this.createState(i));
      this.update({ param: s.param, grad: s.param.grad, state, fresh: s.fresh, gradScale, lr: lr * s.lrScale, weightDecay: s.weightDecay });
      s.fresh = false;
    });
  }

  /** Whether slot i's parameter takes the multi-tensor step (when there is one): small enough. */
  private inFlat(i: number): boolean {
    return this.slots[i].param.size <= this.flatMax;
  }

  /** The flat buffers of the multi-tensor path (created on first use), or null for the per-parameter one. */
  private flatBuffers(): FlatBuffers | null {
    if (!this.foreach || !this.updateFlat) return null;
    // (a parameter updated per tensor keeps a zero-sized slot: the layout stays one slot per parameter)
    return (this.flat ??= new FlatBuffers(this.slots.map((s, i) => (this.inFlat(i) ? s.param.size : 0)), this.stateNames));
  }

  /** The multi-tensor update: one `updateFlat` per run of active slots with equal lr and decay. */
  private stepFlat(flat: FlatBuffers, gradScale: Tensor, lr: number): void {
    const active = this.slots.map((s, i) => s.param.grad !== null && this.inFlat(i));
    this.slots.forEach((s, i) => {
      if (!active[i]) return;
      s.state ??= this.createState(i);
      s.fresh = false;
    });
    const same = (a: number, b: number) => {
      const sa = this.slots[a], sb = this.slots[b];
      return sa.lrScale === sb.lrScale && sa.weightDecay === sb.weightDecay;
    };
    for (const run of flat.runs(active, same)) {
      const s = this.slots[run.slot];
      this.updateFlat!({ flat, run, gradScale, lr: lr * s.lrScale, weightDecay: s.weightDecay });
    }
    flat.scatter(this.params, active);
  }

  /** Releases every parameter's gradient (the next backward allocates new ones from the pool). */
  zeroGrad(): void {
    for (const s of this.slots) {
      s.param.grad?.dispose();
      s.param.grad = null;
    }
  }

  /** Zeroed state for slot `i`: views into the flat state on the multi-tensor path, else own tensors. */
  private createState(i: number): Record<string, Tensor> {
    const param = this.slots[i].param;
    const flat = this.flatBuffers();
    if (flat && this.inFlat(i)) return flat.stateOf(i, param.shape);
    const state: Record<string, Tensor> = {};
    for (const n of this.stateNames) state[n] = keep(zeros(param.shape));
    return state;
  }

  /** The live state (not copies): the step count and `<index>.<name>` tensors of stepped parameters. */
  stateDict(): OptimizerState {
    const tensors: Record<string, Tensor> = {};
    this.slots.forEach((s, i) => {
      if (s.state) for (const n of this.stateNames) tensors[`${i}.${n}`] = s.state[n];
    });
    return { step: this.stepCount, tensors };
  }

  /**
   * Copies `state` (from `stateDict()` of an optimizer of the same kind over parameters of the same
   * shapes, in the same order) into this one. The caller keeps ownership of `state.tensors`.
   */
  loadStateDict(state: OptimizerState): void {
    if (!Number.isSafeInteger(state.step) || state.step < 0) throw new Error(`${this.name}.loadStateDict: step ${state.step} is not a non-negative integer.`);
    const byParam = new Map<number, Record<string, Tensor>>();
    const problems: string[] = [];
    for (const [key, t] of Object.entries(state.tensors)) {
      const m = /^(\d+)\.(.+)$/.exec(key);
      const i = m ? Number(m[1]) : -1;
      if (!m || i >= this.slots.length || !this.stateNames.includes(m[2])) {
        problems.push(`unexpected key '${key}'`);
        continue;
      }
      const p = this.slots[i].param;
      if (!sameShape(t.shape, p.shape) || t.dtype !== 'f32') {
        problems.push(`'${key}' is ${t.dtype}${fmt(t.shape)}, parameter ${i} is f32${fmt(p.shape)}`);
        continue;
      }
      if (!byParam.has(i)) byParam.set(i, {});
      byParam.get(i)![m[2]] = t;
    }
    for (const [i, s] of byParam) {
      const missing = this.stateNames.filter((n) => !s[n]);
      if (missing.length) problems.push(`parameter ${i} lacks ${missing.map((n) => `'${i}.${n}'`).join(', ')}`);
    }
    if (problems.length) throw new Error(`${this.name}.loadStateDict: ${problems.join('; ')}.`);
    this.slots.forEach((s, i) => {
      const src = byParam.get(i);
      if (!src) {
        // No state saved for it (it had never been stepped): start fresh.
        if (s.state) for (const t of Object.values(s.state)) t.dispose();
        s.state = null;
        s.fresh = true;
        return;
      }
      s.state ??= this.createState(i);
      for (const n of this.stateNames) copyInto(src[n], s.state[n]);
      s.fresh = false;
    });
    this.stepCount = state.step;
  }

  /** Frees the state tensors and clipping buffers (not the parameters). */
  dispose(): void {
    for (const s of this.slots) {
      if (s.state) for (const t of Object.values(s.state)) t.dispose();
      s.state = null;
      s.fresh = true;
    }
    this.flat?.dispose();
    this.flat = null;
    this.norm?.dispose();
    this.norm = null;
    this.one?.dispose();
    this.one = null;
  }
}

/** The fault-injection hook's poison: g ← g · NaN. */
function poison(g: Tensor): void {
  const nan = tensor([NaN]);
  scaleInPlace(g, nan);
  nan.dispose();
}
