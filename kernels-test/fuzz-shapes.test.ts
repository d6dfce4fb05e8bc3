// Seeded property test over random shapes (rank 0..5, sizes 0..5) and shape pairs: every op either
// matches the float64 reference or, exactly when the reference says the shapes do not fit, throws
// an Error whose message names the offending shape. Never a wrong answer, never a silent result.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { expectTensor, randomHost, upload } from './expect-tensor.js';
import { Rng } from './reference.js';
import { binary, binaryRef, where, type BinaryRefName } from './reference-elementwise.js';
import { broadcastShape, broadcastTo, concat, numel, permute, slice, type Host } from './reference-layout.js';
import { reduce } from './reference-reduce.js';

beforeAll(async () => {
  await vq.init();
});

const rng = new Rng(2024);
const DIMS = [1, 1, 2, 3, 5, 0]; // 1 twice: broadcasting needs many ones; 0 rarely

function randomShape(): number[] {
  return Array.from({ length: rng.int(6) }, () => DIMS[rng.int(DIMS.length)]);
}

/** A partner for `s`: often broadcast-compatible (dropped leading dims, dims set to 1), sometimes not. */
function partner(s: number[]): number[] {
  const r = rng.uniform();
  if (r < 0.15) return randomShape();
  const t = s.slice(rng.int(s.length + 1)).map((d) => (rng.uniform() < 0.3 ? 1 : d));
  if (r < 0.3 && t.length) t[rng.int(t.length)] += 1; // likely a mismatch
  if (r > 0.9) t.unshift(1 + rng.int(3)); // a new leading axis
  return t;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** How many cases were accepted and rejected (both must be common for the test to mean anything). */
const seen = { accepted: 0, rejected: 0 };

/** Runs `op`; if `ref` is null the op must throw naming one of `shapes`, else match `ref`. */
async function agree(label: string, shapes: number[][], ref: Host | null, op: () => vq.Tensor): Promise<void> {
  let out: vq.Tensor;
  seen[ref ? 'accepted' : 'rejected']++;
  try {
    out = op();
  } catch (e) {
    expect(e, label).toBeInstanceOf(Error);
    const msg = (e as Error).message;
    expect(ref, `${label} threw '${msg}' but the reference accepts it`).toBeNull();
    expect(shapes.some((s) => msg.includes(fmt(s))), `${label}: '${msg}' names none of the shapes`).toBe(true);
    return;
  }
  expect(ref, `${label}: returned ${fmt(out.shape)} but the shapes do not fit`).not.toBeNull();
  await expectTensor(out, ref!, label, { atol: 1e-5, rtol: 1e-4 });
  out.dispose();
}

const BIN: BinaryRefName[] = ['add', 'sub', 'mul', 'maximum', 'greater', 'equal'];
const ints = () => rng.int(5) - 2;

describe('fuzzed shapes', () => {
  it('binary ops and where broadcast exactly when NumPy would', async () => {
    for (let i = 0; i < 100; i++) {
      const sa = randomShape(), sb = partner(sa);
      const [a, b] = [randomHost(rng, sa, ints), randomHost(rng, sb, ints)];
      const name = BIN[i % BIN.length];
      const [ta, tb] = [upload(a), upload(b)];
      await agree(`${name} ${fmt(sa)} ${fmt(sb)}`, [sa, sb], binary(a, b, binaryRef[name]), () => (vq as unknown as Record<string, (x: vq.Tensor, y: vq.Tensor) => vq.Tensor>)[name](ta, tb));
      if (i % 3 === 0) {
        const sc = partner(sb);
        const c = randomHost(rng, sc, () => rng.int(2));
        const tc = upload(c);
        await agree(`where ${fmt(sc)} ${fmt(sa)} ${fmt(sb)}`, [sc, sa, sb], where(c, a, b), () => vq.where(tc, ta, tb));
        tc.dispose();
      }
      ta.dispose();
      tb.dispose();
    }
  });

  it('reductions, reshape, permute, expand, slice and concat accept exactly the valid arguments', async () => {
    for (let i = 0; i < 100; i++) {
      const s = randomShape();
      const r = s.length;
      const h = randomHost(rng, s, ints);
      const x = upload(h);
      // a reduction over a random axis set (sometimes out of range)
      const axes = [...new Set(Array.from({ length: rng.int(3) }, () => rng.int(r + 2) - 1))];
      const norm = axes.map((a) => (a < 0 ? a + r : a));
      const axesOk = r === 0 ? axes.every((a) => a === 0 || a === -1) : norm.every((a) => a >= 0 && a < r);
      const op = (['sum', 'max', 'mean'] as const)[i % 3];
      const emptyAxis = norm.some((a) => s[a] === 0) || (axes.length === 0 && numel(s) === 0 && r > 0);
      const refOk = axesOk && !(op === 'max' && emptyAxis); // an empty mean is NaN, as in NumPy
      const axesArg = axes.length ? axes : undefined;
      await agree(`${op} over ${fmt(axes)} of ${fmt(s)}`, [s], refOk ? reduce(h, op, r === 0 ? [] : axesArg && [...new Set(norm)], i % 2 === 0) : null, () =>
        vq[op](x, axesArg, i % 2 === 0),
      );
      // reshape to a random shape of (often) the same size, with one -1 sometimes
      const target = rng.uniform() < 0.6 ? [...s].reverse() : randomShape();
      if (target.length && rng.uniform() < 0.4) target[rng.int(target.length)] = -1;
      const known = target.reduce((a, d) => (d === -1 ? a : a * d), 1);
      const resolved = target.map((d) => (d === -1 ? (known ? numel(s) / known : 0) : d));
      const reshapeOk = resolved.every((d) => Number.isInteger(d) && d >= 0) && numel(resolved) === numel(s);
      await agree(`reshape ${fmt(s)} to ${fmt(target)}`, [s, target], reshapeOk ? { data: h.data, shape: resolved } : null, () => vq.reshape(x, target));
      // permute by a random (possibly invalid) axis list
      const perm = [...Array(r).keys()].sort(() => rng.uniform() - 0.5);
      if (rng.uniform() < 0.3 && r) perm[rng.int(r)] = rng.int(r + 1);
      const permOk = new Set(perm).size === r && perm.every((a) => a < r);
      await agree(`permute ${fmt(s)} by ${fmt(perm)}`, [s], permOk ? permute(h, perm) : null, () => vq.permute(x, perm));
      // expand to a partner shape
      const to = partner(s).concat([]);
      const bs = broadcastShape(s, to);
      const expandOk = bs !== null && bs.length === to.length && bs.every((d, k) => d === to[k]);
      await agree(`expand ${fmt(s)} to ${fmt(to)}`, [s, to], expandOk ? broadcastTo(h, to) : null, () => vq.contiguous(vq.expand(x, to)));
      // slice a random range of a random axis
      if (r) {
        const ax = rng.int(r), n = s[ax];
        const [st, en] = [rng.int(n + 2) - 1, rng.int(n + 2)];
        const [s0, e0] = [st < 0 ? st + n : st, Math.min(en, n)];
        const sliceOk = s0 >= 0 && e0 >= s0;
        await agree(`slice ${fmt(s)} axis ${ax} [${st}, ${en})`, [s], sliceOk ? slice(h, ax, s0, e0) : null, () => vq.slice(x, ax, st, en));
      }
      // concat with a partner along a random axis
      if (r) {
        const ax = rng.int(r);
        const s2 = rng.uniform() < 0.7 ? s.map((d, k) => (k === ax ? rng.int(3) : d)) : partner(s);
        const h2 = randomHost(rng, s2, ints);
        const x2 = upload(h2);
        const catOk = s2.length === r && s2.every((d, k) => k === ax || d === s[k]);
        await agree(`concat ${fmt(s)} ${fmt(s2)} on ${ax}`, [s, s2], catOk ? concat([h, h2], ax) : null, () => vq.concat([x, x2], ax));
        x2.dispose();
      }
      x.dispose();
    }
    console.log(`[fuzz-shapes] ${seen.accepted} valid cases matched, ${seen.rejected} invalid ones threw`);
    expect(seen.accepted).toBeGreaterThan(250);
    expect(seen.rejected).toBeGreaterThan(100);
  });
});
