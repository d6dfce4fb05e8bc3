// conv2d bench, per pass: the convolutions of one VQ-VAE tokenizer training step (emoji 32×32 →
// 8×8 tokens, batch 16, widths 32/64, 4×4 stride-2 down/discriminator convs, fused 2× upsample
// convs, 1×1 skip/projection), each pass timed alone: forward, input gradient, weight gradient,
// bias gradient. GFLOP/s per pass = Σ 2·N·Cout·Ho·Wo·Cin·KH·KW over the layers / Σ seconds.
// Peer: the register-blocked matmul at 512³ in the same process, the throughput the implicit GEMM
// should approach (the machine is shared, so only ratios measured in one process mean anything).

import * as vq from '../src/index.js';
import { conv2dBiasGrad, conv2dForward, conv2dGradInput, conv2dGradWeight, convGeometry } from '../src/ops/conv2d.js';
import { matmulRaw } from '../src/ops/matmul.js';
import { round3, timeGpu, type BenchResult } from './harness.js';
import { Rng } from '../kernels-test/reference.js';

interface Layer {
  name: string; N: number; Cin: number; Cout: number; H: number; K: number; stride: number; pad: number;
  up?: boolean;
  /** how many layers of the step have this shape */
  count: number;
}

const L = (name: string, Cin: number, Cout: number, H: number, K: number, stride: number, pad: number, count = 1, up = false): Layer =>
  ({ name, N: 16, Cin, Cout, H, K, stride, pad, count, up });

/** The tokenizer's convolutions (encoder, decoder, discriminator on one batch), H = input side as stored. */
export const TOKENIZER_LAYERS: Layer[] = [
  L('3→32 k3 @32', 3, 32, 32, 3, 1, 1, 1),
  L('32→32 k3 @32', 32, 32, 32, 3, 1, 1, 4),
  L('32→32 k4s2 @32', 32, 32, 32, 4, 2, 1, 1),
  L('32→64 k3 @16', 32, 64, 16, 3, 1, 1, 1),
  L('64→64 k3 @16', 64, 64, 16, 3, 1, 1, 3),
  L('32→64 k1 @16', 32, 64, 16, 1, 1, 0, 1),
  L('64→64 k4s2 @16', 64, 64, 16, 4, 2, 1, 1),
  L('64→64 k3 @8', 64, 64, 8, 3, 1, 1, 4),
  L('64→32 k1 @8', 64, 32, 8, 1, 1, 0, 1),
  L('32→64 k3 @8', 32, 64, 8, 3, 1, 1, 1),
  L('64→64 k3 up2 @8', 64, 64, 8, 3, 1, 1, 1, true),
  L('64→32 k3 up2 @16', 64, 32, 16, 3, 1, 1, 1, true),
  L('32→3 k3 @32', 32, 3, 32, 3, 1, 1, 1),
  L('3→32 k4s2 @32', 3, 32, 32, 4, 2, 1, 1),
  L('32→64 k4s2 @16', 32, 64, 16, 4, 2, 1, 1),
  L('64→1 k3 @8', 64, 1, 8, 3, 1, 1, 1),
];

let matmulRef: number | null = null;

/** GFLOP/s of the register-blocked matmul at 512³ (measured once per process). */
async function matmul512(minSeconds: number): Promise<number> {
  if (matmulRef === null) {
    const rng = new Rng(2);
    const a = vq.tensor(rng.array(512 * 512), [512, 512]), b = vq.tensor(rng.array(512 * 512), [512, 512]);
    const s = await timeGpu(() => matmulRaw(a, b).dispose(), minSeconds);
    a.dispose();
    b.dispose();
    matmulRef = (2 * 512 ** 3) / s / 1e9;
  }
  return matmulRef;
}

export async function runPasses(caseName: string, minSeconds: number): Promise<BenchResult> {
  const ref = await matmul512(minSeconds);
  const pass = { fwd: { flop: 0, s: 0 }, dx: { flop: 0, s: 0 }, dw: { flop: 0, s: 0 } };
  let biasS = 0;
  const win = { flop: 0, ours: 0, portable: 0 };   // the 3×3 "same" layers, all three passes
  const notes: Record<string, number | string> = {};
  const rng = new Rng(3);
  for (const l of TOKENIZER_LAYERS) {
    const x = vq.tensor(rng.array(l.N * l.Cin * l.H * l.H), [l.N, l.Cin, l.H, l.H]);
    const w = vq.tensor(rng.array(l.Cout * l.Cin * l.K * l.K, 0.1), [l.Cout, l.Cin, l.K, l.K]);
    const b = vq.tensor(rng.array(l.Cout), [l.Cout]);
    const geo = convGeometry('bench', x, w, b, { stride: l.stride, padding: l.pad }, l.up ? 2 : 1);
    const gy = vq.tensor(rng.array(l.N * l.Cout * geo.Ho * geo.Wo), [l.N, l.Cout, geo.Ho, geo.Wo]);
    const flop = 2 * l.N * l.Cout * geo.Ho * geo.Wo * l.Cin * l.K * l.K;
    const t = {
      fwd: await timeGpu(() => conv2dForward(x, w, b, geo).dispose(), minSeconds),
      dx: await timeGpu(() => conv2dGradInput(gy, w, geo).dispose(), minSeconds),
      dw: await timeGpu(() => conv2dGradWeight(gy, x, geo).dispose(), minSeconds),
    };
    const tb = await timeGpu(() => conv2dBiasGrad(gy).dispose(), minSeconds);
    // The 3×3 "same" layers again with the portable kernels forced: what the subgroup ones gain.
    if (l.K === 3 && l.stride === 1 && !l.up) {
      const pg = { ...geo, kernels: 'portable' as const };
      const fwd = await timeGpu(() => conv2dForward(x, w, b, pg).dispose(), minSeconds);
      const dx = await timeGpu(() => conv2dGradInput(gy, w, pg).dispose(), minSeconds);
      const dw = await timeGpu(() => conv2dGradWeight(gy, x, pg).dispose(), minSeconds);
      win.flop += l.count * 3 * flop;
      win.ours += l.count * (t.fwd + t.dx + t.dw);
      win.portable += l.count * (fwd + dx + dw);
    }
    for (const k of ['fwd', 'dx', 'dw'] as const) {
      pass[k].flop += l.count * flop;
      pass[k].s += l.count * t[k];
    }
    biasS += l.count * tb;
    notes[l.name] = `${(flop / t.fwd / 1e9).toFixed(2)}/${(flop / t.dx / 1e9).toFixed(2)}/${(flop / t.dw / 1e9).toFixed(2)}`;
    for (const tt of [x, w, b, gy]) tt.dispose();
  }
  const total = pass.fwd.s + pass.dx.s + pass.dw.s + biasS;
  const flop = pass.fwd.flop + pass.dx.flop + pass.dw.flop;
  return {
    bench: 'conv2d',
    case: caseName,
    metric: 'GFLOP/s',
    ours: flop / total / 1e9,
    vs: { 'matmul 512³': ref },
    notes: {
      'fwd GFLOP/s': round3(pass.fwd.flop / pass.fwd.s / 1e9),
      'dx GFLOP/s': round3(pass.dx.flop / pass.dx.s / 1e9),
      'dw GFLOP/s': round3(pass.dw.flop / pass.dw.s / 1e9),
      'bias grad ms': round3(biasS * 1000),
      '3x3 same GFLOP/s': round3(win.flop / win.ours / 1e9),
      '3x3 same GFLOP/s, portable kernels': round3(win.flop / win.portable / 1e9),
      'step ms (all passes)': round3(total * 1000),
      ...notes,
    },
  };
}
