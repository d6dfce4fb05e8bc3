// Temperature, top-k and top-p (nucleus) filtering of logits on the GPU (sample_filter.wgsl), so a
// sampler never reads logits back: logits [N, V] → filtered logits [N, V] (−3e38 where cut).

import filterSrc from '../../shaders/sample_filter.wgsl';
import { grid1d, kernel, launch, Params } from '../ops/launch.js';
import { contiguous } from '../ops/layout.js';
import { empty, type Tensor } from '../tensor/tensor.js';

const FILTER = kernel('sample_filter', filterSrc);

export interface FilterOptions {
  /** > 0; logits are divided by it */
  temperature?: number;
  /** keep the k most likely (0: all) */
  topK?: number;
  /** keep the smallest set with this probability (1: all) */
  topP?: number;
}

export function checkFilterOptions(o: FilterOptions): void {
  if (o.temperature !== undefined && !(o.temperature > 0)) throw new Error(`temperature must be > 0, got ${o.temperature}.`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw new Error(`top-k must be a non-negative integer, got ${o.topK}.`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new Error(`top-p must be in (0, 1], got ${o.topP}.`);
}

export function filterLogits(logits: Tensor, o: FilterOptions): Tensor {
  checkFilterOptions(o);
  if (logits.rank !== 2) throw new Error(`filterLogits: logits must be [N, V], got [${logits.shape}].`);
  const [N, V] = logits.shape;
  // Nothing to scale or cut (temperature 1, every code kept): the kernel would copy the logits.
  if ((o.temperature ?? 1) === 1 && !((o.topK ?? 0) > 0 && o.topK! < V) && (o.topP ?? 1) >= 1) return contiguous(logits);
  const x = contiguous(logits);
  const y = empty([N, V]);
  const p = new Params().u32(N, V, o.topK ?? 0, 0).f32(1 / (o.temperature ?? 1), o.topP ?? 1).u32(0, 0);
  launch(FILTER, p, [x, y], grid1d(N, 1));
  x.dispose();
  return y;
}
