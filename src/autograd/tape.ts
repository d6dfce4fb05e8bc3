// Reverse-mode autograd. Each op that has an input requiring a gradient attaches a GradNode to its
// output; `backward(loss)` walks the graph in reverse topological order, accumulating gradients.
// Leaves (parameters) accumulate into `.grad` across calls until the optimizer zeroes them.

import { keep } from '../tensor/scope.js';
import type { GradNode, Tensor } from '../tensor/tensor.js';

let gradDisabled = 0;

export function isGradEnabled(): boolean {
  return gradDisabled === 0;
}

/** Runs fn without recording the tape (inference, optimizer updates, EMA). */
export function noGrad<T>(fn: () => T): T {
  gradDisabled++;
  try {
    return fn();
  } finally {
    gradDisabled--;
  }
}

/** Attaches a node to `out` when recording is on and any input needs a gradient. */
export function record(out: Tensor, name: string, inputs: Tensor[], backward: GradNode['backward']): Tensor {
  if (gradDisabled === 0 && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { name, inputs, backward };
  }
  return out;
}

/** Marks an op as having no gradient: backward through it throws a clear error. */
export function recordNonDifferentiable(out: Tensor, name: string, inputs: Tensor[]): Tensor {
  return record(out, name, inputs, () => {
    throw new Error(`backward(): op '${name}' has no gradient (wrap its inputs in detach() or compute it under noGrad()).`);
  });
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  // Iterative DFS: deep transformer graphs overflow recursion.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root.id);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const c = inputs[i];
      if (c.requiresGrad && !seen.has(c.id)) {
        seen.add(c.id);
        stack.push([c, 0]);
      }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order.reverse();
}

interface TapeKernels {
  add: (a: Tensor, b: Tensor) => Tensor;
  ones: (like: Tensor) => Tensor;
  clone: (t: Tensor) => Tensor;
}
let kernels: TapeKernels | null = null;

/** ops/ registers the kernels backward itself needs (it cannot import ops: they import it). */
export function setTapeKernels(k: TapeKernels): void {
  kernels = k;
}

/** Another handle on the same storage: lets a backward pass return its incoming gradient. */
function alias(t: Tensor): Tensor {
  return t.view(t.shape, t.strides, t.offset);
}

/**
 * Back-propagates from `loss` (a scalar, or any tensor given `grad`). Gradients of leaves that
 * require them accumulate into `leaf.grad` (kept outside tidy scopes). Graph nodes are cleared.
 */
export function backward(loss: Tensor, grad?: Tensor): void {
  if (!loss.requiresGrad) throw new Error('backward(): the tensor does not require a gradient (no parameter reaches it).');
  if (!grad && loss.size !== 1) throw new Error(`backward(): loss must be a scalar, got [${loss.shape.join(', ')}]; pass a gradient.`);
  if (grad && (grad.shape.length !== loss.shape.length || grad.shape.some((d, i) => d !== loss.shape[i]))) {
    throw new Error(`backward(): the gradient [${grad.shape.join(', ')}] does not match the output [${loss.shape.join(', ')}].`);
  }
  if (!kernels) throw new Error('backward(): ops are not loaded (import vqgpu, not only its tape).');
  const { ones } = kernels;
  noGrad(() => {
    const order = topoOrder(loss);
    const grads = new Map<number, Tensor>();
    grads.set(loss.id, grad ?? ones(loss));
    try {
      walk(order, grads, grad);
    } catch (e) {
      // A node without a gradient (or a shape bug) stops the walk: free the pending gradients.
      for (const g of grads.values()) if (g !== grad) g.dispose();
      throw e;
    }
  });
}

/**
 * Gradients of a scalar `output` with respect to `wrt` (leaves or intermediate tensors), returned
 * rather than accumulated into `.grad`, with the graph retained so that `backward` can follow.
 * Only the part of the graph between `output` and `wrt` is visited (e.g. VQGAN's adaptive weight:
 * the gradient norms of two losses at the decoder's last layer). A tensor `output` does not reach
 * gets a gradient of null.
 */
export function grad(output: Tensor, wrt: Tensor[]): (Tensor | null)[] {
  if (!output.requiresGrad) throw new Error('grad(): the output does not require a gradient.');
  if (output.size !== 1) throw new Error(`grad(): the output must be a scalar, got [${output.shape.join(', ')}].`);
  if (!kernels) throw new Error('grad(): ops are not loaded (import vqgpu, not only its tape).');
  const { ones } = kernels;
  return noGrad(() => {
    const targets = new Set(wrt.map((t) => t.id));
    const order = topoOrder(output);
    // Keep only tensors from which some target is reachable (order lists inputs after outputs).
    const relevant = new Set<number>();
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      if (targets.has(t.id) || t.node?.inputs.some((x) => relevant.has(x.id))) relevant.add(t.id);
    }
    const grads = new Map<number, Tensor>();
    const sink = new Map<number, Tensor>();
    grads.set(output.id, ones(output));
    try {
      walk(order.filter((t) => relevant.has(t.id)), grads, undefined, { sink: targets, out: sink, relevant });
    } finally {
      for (const g of grads.values()) g.dispose();
    }
    return wrt.map((t) => sink.get(t.id) ?? null);
  });
}

interface PartialWalk {
  /** ids whose gradient is collected into `out` (and not propagated further) */
  sink: Set<number>;
  out: Map<number, Tensor>;
  /** ids worth propagating into */
  relevant: Set<number>;
}

/**
 * Visits `order` (reverse topological), turning each node's output gradient into its inputs'.
 * With `partial`, gradients stop at (and are collected for) the sink tensors and the graph is kept.
 */
function walk(order: Tensor[], grads: Map<number, Tensor>, grad: Tensor | undefined, partial?: PartialWalk): void {
  const { add, clone } = kernels!;
  for (const t of order) {
    const g = grads.get(t.id);
    if (!g) continue;
    if (partial?.sink.has(t.id)) {
      // Collect a copy; keep propagating when another target lies further back.
      partial.out.set(t.id, clone(g));
      if (!t.node || !t.node.inputs.some((x) => partial.relevant.has(x.id))) {
        grads.delete(t.id);
        g.dispose();
        continue;
      }
    }
    if (!t.node) {
      // a leaf
      grads.delete(t.id);
      if (t.grad) {
        const sum = keep(add(t.grad, g));
        t.grad.dispose();
        t.grad = sum;
        if (g !== grad) g.dispose();
      } else {
        // Leaf gradients are dense runs owned by the leaf (optimizers read them as flat arrays),
        // possibly at an offset into a buffer they share with a sibling's: the norm and
        // convolution kernels write weight and bias gradients in one buffer, and a copy of each
        // bias gradient would be a dispatch per layer per step.
        const own = g === grad || !g.isDense ? clone(g) : g;
        if (own !== g && g !== grad) g.dispose();
        t.grad = keep(own);
      }
      continue;
    }
    const node = t.node;
    const inGrads = node.backward(g).map((ig) => (ig === g ? alias(g) : ig));
    grads.delete(t.id);
    if (g !== grad) g.dispose();
    node.inputs.forEach((inp, i) => {
      const ig = inGrads[i];
      if (!ig || !inp.requiresGrad || (partial && !partial.relevant.has(inp.id))) {
        ig?.dispose();
        return;
      }
      if (ig.shape.length !== inp.shape.length || ig.shape.some((d, k) => d !== inp.shape[k])) {
        throw new Error(`backward(): op '${node.name}' produced a gradient [${ig.shape}] for an input of shape [${inp.shape}].`);
      }
      const prev = grads.get(inp.id);
      if (prev) {
        grads.set(inp.id, add(prev, ig));
        prev.dispose();
        ig.dispose();
      } else grads.set(inp.id, ig);
    });
    if (!partial) t.node = null;
  }
}
