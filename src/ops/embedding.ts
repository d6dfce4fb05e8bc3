// Embedding lookup: rows of a table [V, D] picked by i32 indices (embedding.wgsl). The table's
// gradient is a deterministic scatter-add (no float atomics), so training repeats bit-exactly.
// Indices are not validated (that would need a readback): an index outside [0, V) yields a zero
// row and contributes no gradient.

import embeddingSrc from '../../shaders/embedding.wgsl';
import { isGradEnabled, record } from '../autograd/tape.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { zeros } from './creation.js';
import { fmt, grid1d, kernel, launch, Params } from './launch.js';
import { contiguous } from './layout.js';
import { forDenseRows, sumOverRows } from './binding-window.js';

const GATHER = kernel('embedding', embeddingSrc, 'gather');
const SCATTER_TILES = kernel('embedding', embeddingSrc, 'scatter_tiles');
const SCATTER_SPARSE = kernel('embedding', embeddingSrc, 'scatter_sparse');
const WG = 64;
/** vocabulary rows per workgroup of scatter_tiles (TV in embedding.wgsl) */
const TV = 32;

/** dtable [V, D] = Σ over occurrences of each index of the matching rows of g [N, D]. */
function scatterRows(idx: Tensor, g: Tensor, vocab: number, dim: number): Tensor {
  const n = idx.size;
  // A workgroup per 32 vocabulary rows scans all N indices: (V/32)·N work per column. With few
  // indices (N < V/32) it is cheaper to let each index's first occurrence sum its repeats (≈ N²).
  if (n < vocab / TV) {
    const out = zeros([vocab, dim]);
    launch(SCATTER_SPARSE, new Params().u32(n, dim, vocab, 0), [idx, g, out], grid1d(n * dim, WG), { WG });
    return out;
  }
  const out = empty([vocab, dim]);
  const colGroups = Math.ceil(dim / WG);
  const p = new Params().u32(n, dim, vocab, colGroups);
  launch(SCATTER_TILES, p, [idx, g, out], grid1d(Math.ceil(vocab / TV) * colGroups, 1), { WG });
  return out;
}

/** table[indices]: indices i32 [...], table f32 [V, D] → [..., D]. Differentiable in the table. */
export function embedding(indices: Tensor, table: Tensor): Tensor {
  indices.assertAlive();
  table.assertAlive();
  if (indices.dtype !== 'i32') throw new Error(`embedding: indices must be i32, got ${indices.dtype} ${fmt(indices.shape)}.`);
  if (table.dtype !== 'f32' || table.rank !== 2) throw new Error(`embedding: table must be f32 [V, D], got ${table.dtype} ${fmt(table.shape)}.`);
  const [vocab, dim] = table.shape;
  if (vocab === 0 && indices.size > 0) throw new Error(`embedding: the table ${fmt(table.shape)} has no rows to look up.`);
  const idx = contiguous(indices);
  const tab = contiguous(table);
  const out = empty([...indices.shape, dim]);
  // (over a storage binding: chunks of the indices and their output rows, the table bound whole)
  if (out.size) {
    forDenseRows('embedding', idx.size, [idx, out], [1], [tab], ([iv, ov]) =>
      launch(GATHER, new Params().u32(iv.size, dim, vocab, 0), [iv, tab, ov], grid1d(ov.size, WG), { WG }));
  }
  tab.dispose();
  if (!isGradEnabled() || !table.requiresGrad) {
    idx.dispose();
    return out;
  }
  // idx lives in the enclosing scope: the backward pass reads it.
  return record(out, 'embedding', [indices, table], (g) => {
    const gc = contiguous(g);
    // (over a storage binding: the tables of chunks of the indices, added up)
    const [dtable] = sumOverRows('embedding', idx.size, [idx, gc], [], ([iv, gv]) => [scatterRows(iv, gv, vocab, dim)]);
    gc.dispose();
    return [null, dtable];
  });
}
