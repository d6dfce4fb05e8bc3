// Multi-tensor ("foreach") optimizer steps: every parameter, gradient and state tensor of an
// optimizer laid end to end in one flat buffer each, so that the update is one dispatch per run of
// parameters instead of one per parameter. WebGPU binds whole buffers (and a CPU adapter pays a
// fixed ~50 µs per dispatch), while buffer-to-buffer copies are near free (lavapipe: ~3 µs each
// against ~50 µs for a dispatch): a step gathers the gradients and parameters with copies, runs the
// few fused dispatches over the flat buffers, and scatters the parameters back with copies. The
// parameters are gathered every step, not kept in the flat buffer between steps: their own buffers
// stay the truth, which checkpoint loads, weight copies and the model's other writers update.
//
// Layout: slot i occupies [offsets[i], offsets[i] + sizes[i]) of each flat buffer, offsets a
// multiple of 4 elements so a vec4 kernel can stream whole runs; the padding between slots stays
// zero in gradients, parameters and state (a zero gradient leaves a zero parameter and zero moments
// at zero), so it never needs masking.

import { runtime } from '../device/runtime.js';
import { zeros } from '../ops/creation.js';
import { keep } from '../tensor/scope.js';
import { contiguousStrides, type Tensor } from '../tensor/tensor.js';

/** Consecutive slots updated by one dispatch: elements [start, start + count) of the flat buffers. */
export interface FlatRun {
  /** first element (a multiple of 4) */
  start: number;
  /** elements, a multiple of 4 (padding included) */
  count: number;
  /** the first slot of the run (its hyper-parameters apply to the whole run) */
  slot: number;
}

const F32 = 4;
const ALIGN = 4;

export class FlatBuffers {
  readonly offsets: number[] = [];
  readonly total: number;
  /** [total] flat copies of the parameters and gradients, rebuilt by every gather */
  readonly params: Tensor;
  readonly grads: Tensor;
  /** [total] per state name: the optimizer's state of every slot (views in `stateOf`) */
  readonly state: Record<string, Tensor> = {};
  /** slots whose gradient segment holds a gradient from an earlier step (to clear when inactive) */
  private dirty: boolean[];

  constructor(private readonly sizes: readonly number[], stateNames: readonly string[]) {
    let at = 0;
    for (const n of sizes) {
      this.offsets.push(at);
      at += Math.ceil(n / ALIGN) * ALIGN;
    }
    this.total = Math.max(ALIGN, at);
    this.params = keep(zeros([this.total]));
    this.grads = keep(zeros([this.total]));
    for (const name of stateNames) this.state[name] = keep(zeros([this.total]));
    this.dirty = sizes.map(() => false);
  }

  /**
   * Views of slot `i`'s state, shaped like its parameter, after zeroing them (state is created
   * fresh, or re-created when a loaded state dict has none for this slot). The caller disposes the views.
   */
  stateOf(i: number, shape: readonly number[]): Record<string, Tensor> {
    const views: Record<string, Tensor> = {};
    for (const [name, flat] of Object.entries(this.state)) {
      this.clear(flat, i);
      views[name] = keep(flat.view(shape, contiguousStrides(shape), this.offsets[i]));
    }
    return views;
  }

  /**
   * Records the copies of the active slots' parameters and gradients into the flat buffers (slots
   * are active when `grads[i]` is set; an inactive slot's stale gradient segment is zeroed so that
   * the global norm sees only this step's gradients). Parameters are contiguous, gradients dense
   * (from any offset) f32.
   */
  gather(params: readonly Tensor[], grads: readonly (Tensor | null)[]): void {
    const rt = runtime();
    for (let i = 0; i < params.length; i++) {
      const g = grads[i];
      if (g) {
        const bytes = this.sizes[i] * F32, at = this.offsets[i] * F32;
        if (bytes) {
          rt.copy(g.buffer, g.offset * F32, this.grads.buffer, at, bytes);
          rt.copy(params[i].buffer, 0, this.params.buffer, at, bytes);
        }
        this.dirty[i] = true;
      } else if (this.dirty[i]) {
        this.clear(this.grads, i);
        this.dirty[i] = false;
      }
    }
  }

  /** Records the copies of the updated parameters back into the active slots' own buffers. */
  scatter(params: readonly Tensor[], active: readonly boolean[]): void {
    const rt = runtime();
    for (let i = 0; i < params.length; i++) {
      const bytes = this.sizes[i] * F32;
      if (active[i] && bytes) rt.copy(this.params.buffer, this.offsets[i] * F32, params[i].buffer, 0, bytes);
    }
  }

  /**
   * Maximal runs of consecutive active slots for which `same(a, b)` holds between neighbours
   * (e.g. equal learning rate and weight decay): one update dispatch each.
   */
  runs(active: readonly boolean[], same: (a: number, b: number) => boolean): FlatRun[] {
    const out: FlatRun[] = [];
    let cur: FlatRun | null = null;
    for (let i = 0; i < active.length; i++) {
      if (!active[i]) {
        cur = null;
        continue;
      }
      const end = this.offsets[i] + Math.ceil(this.sizes[i] / ALIGN) * ALIGN;
      if (cur && same(cur.slot, i)) cur.count = end - cur.start;
      else out.push((cur = { start: this.offsets[i], count: end - this.offsets[i], slot: i }));
    }
    return out.filter((r) => r.count > 0);
  }

  private clear(flat: Tensor, i: number): void {
    const bytes = Math.ceil(this.sizes[i] / ALIGN) * ALIGN * F32;
    if (bytes) runtime().clear(flat.buffer, this.offsets[i] * F32, bytes);
  }

  dispose(): void {
    this.params.dispose();
    this.grads.dispose();
    for (const t of Object.values(this.state)) t.dispose();
  }
}
