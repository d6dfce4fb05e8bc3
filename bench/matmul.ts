// matmul bench: C = A·B for dense f32 A: [M, K], B: [K, N]; cases are named MxKxN.
// Peers: `naive` (shaders/matmul_naive.wgsl, one invocation per output) and TF.js `tf.matMul`
// on its WebGPU backend, all on the same adapter. Metric: GFLOP/s = 2·M·K·N / seconds. On CPU
// adapters the two CPU kernels beside 'ours' (what 'auto' picks): `register` (matmul.wgsl) and,
// where the device has subgroups, `subgroup` (matmul_subgroup.wgsl), and `subgroup-buffer-b`, the
// subgroup kernel with B read from its buffer where 'auto' reads it through a texture (ops/matmul-b-texture.ts). Ours, these and TF.js are
// timed in alternating batches (harness.ts timeSideBySide), 2 × minSeconds each. On CPU
// adapters, where python3 with numpy exists, `numpy-blas`: the same product on the same cores by
// the native BLAS (bench/native-blas.ts), the ceiling a CPU rasteriser competes against.

import naiveSrc from '../shaders/matmul_naive.wgsl';
import { runtime } from '../src/device/runtime.js';
import { kernel, launch, Params } from '../src/ops/launch.js';
import { matmulRaw } from '../src/ops/matmul.js';
import { bFromTexture, matmulBTexture } from '../src/ops/matmul-b-texture.js';
import { empty, tensor, type Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../kernels-test/reference.js';
import { timeGpu, timeSideBySide, type Bench, type BenchResult, type Contender } from './harness.js';
import { nativeBlasGflops } from './native-blas.js';
import { loadTf } from './tfjs.js';

const NAIVE = kernel('matmul_naive', naiveSrc);

function parseCase(c: string): [number, number, number] {
  const dims = c.split('x').map(Number);
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d <= 0)) throw new Error(`matmul bench: bad case '${c}' (want MxKxN).`);
  return dims as [number, number, number];
}

function naive(a: Tensor, b: Tensor, M: number, K: number, N: number): Tensor {
  const c = empty([M, N]);
  launch(NAIVE, new Params().u32(M, N, K, 0), [a, b, c], [Math.ceil(N / 8), Math.ceil(M / 8)]);
  return c;
}

export const bench: Bench = {
  name: 'matmul',
  // 2048x128x384, 2048x512x128: products of the AR prior's training step (4 layers × 128, B32_L64)
  cases: ['1024x1024x1024', '512x512x512', '4096x256x768', '64x4096x4096', '2048x128x384', '2048x512x128', '4096x4096x4096'],
  // 137 GFLOP: ~11 s per call for ours on lavapipe and over a minute for the naive peer
  gpuOnly: ['4096x4096x4096'],
  async run(caseName, opts): Promise<BenchResult> {
    const [M, K, N] = parseCase(caseName);
    const flop = 2 * M * K * N;
    const rng = new Rng(1);
    const ha = rng.array(M * K), hb = rng.array(K * N);
    const a = tensor(ha, [M, K]), b = tensor(hb, [K, N]);
    const sync = () => runtime().sync();
    // Ours, the CPU kernels beside it and TF.js in alternating batches (timeSideBySide): the
    // machine's speed drifts over seconds, and the ratios are what the bench is for.
    const contenders: Record<string, Contender> = { ours: { step: () => matmulRaw(a, b).dispose(), sync } };
    if (runtime().isCpu) {
      for (const v of runtime().report.subgroups ? (['register', 'subgroup'] as const) : (['register'] as const)) {
        contenders[v] = { step: () => matmulRaw(a, b, 1, v).dispose(), sync };
      }
      // The subgroup kernel with B read from its buffer (ours reads it through a texture from 128 rows).
      if (runtime().report.subgroups && bFromTexture(M, K, N, 1)) {
        contenders['subgroup-buffer-b'] = {
          step: () => {
            matmulBTexture.mode = 'buffer';
            try {
              matmulRaw(a, b, 1, 'subgroup').dispose();
            } finally {
              matmulBTexture.mode = 'auto';
            }
          },
          sync,
        };
      }
    }
    const tf = opts.peers ? await loadTf() : null;
    const ta = tf?.tensor2d(ha, [M, K]), tb = tf?.tensor2d(hb, [K, N]);
    if (tf && ta && tb) {
      // Sync on a one-element slice of the product: waits for the matmul without timing a big readback.
      contenders.tfjs = {
        step: async () => {
          const corner = tf.tidy(() => tf.slice(tf.matMul(ta, tb), [0, 0], [1, 1]));
          await corner.data();
          corner.dispose();
        },
        sync: async () => {},
      };
    }
    const t = await timeSideBySide(contenders, 2 * opts.minSeconds);
    ta?.dispose();
    tb?.dispose();
    const sOurs = t.ours;
    const cpuKernels: Record<string, number> = {};
    for (const v of ['register', 'subgroup', 'subgroup-buffer-b']) if (t[v] !== undefined) cpuKernels[v] = flop / t[v] / 1e9;
    const tfGflops = t.tfjs === undefined ? null : flop / t.tfjs / 1e9;
    const sNaive = await timeGpu(() => naive(a, b, M, K, N).dispose(), opts.minSeconds);
    // On GPUs, each tile of the tiled kernel beside the one 'auto' picks: the data behind chooseTile.
    const tiles: Record<string, number> = {};
    if (!runtime().isCpu) {
      for (const t of ['tiled32', 'tiled64', 'tiled128', 'tiled64v4', 'tiled128v4'] as const) {
        tiles[t] = flop / (await timeGpu(() => matmulRaw(a, b, 1, t).dispose(), opts.minSeconds)) / 1e9;
      }
    }
    a.dispose();
    b.dispose();

    const ours = flop / sOurs / 1e9;
    const notes: Record<string, number | string> = { 'ms/call': sOurs * 1e3 };
    const blas = opts.peers && runtime().isCpu ? await nativeBlasGflops(M, K, N, opts.minSeconds) : null;
    if (blas !== null) notes['share of native BLAS'] = `${((100 * ours) / blas).toFixed(1)}% (numpy on the same cores, this run)`;
    return {
      bench: 'matmul',
      case: caseName,
      metric: 'GFLOP/s',
      ours,
      vs: { naive: flop / sNaive / 1e9, ...cpuKernels, ...tiles, 'tfjs-webgpu': tfGflops, ...(blas === null ? {} : { 'numpy-blas': blas }) },
      notes,
    };
  },
};
