// The native-BLAS reference column of the matmul bench: numpy's float32 matmul (OpenBLAS or
// whatever BLAS numpy links) on the same CPU cores, measured in the same run through a child
// process, so that a CPU adapter's GFLOP/s can be read against what those cores do natively.
// Node only, and only where `python3` with numpy exists: elsewhere the column is absent (null).

const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

// argv: M K N seconds. Prints the median GFLOP/s of three windows of at least `seconds` / 3 each.
const SCRIPT = `
import sys, time
import numpy as np
M, K, N, secs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rng = np.random.default_rng(1)
a = rng.random((M, K), dtype=np.float32); b = rng.random((K, N), dtype=np.float32)
a @ b
rates = []
for _ in range(3):
    n, t0 = 0, time.perf_counter()
    while True:
        a @ b
        n += 1
        dt = time.perf_counter() - t0
        if dt >= secs / 3: break
    rates.append(2.0 * M * K * N * n / dt / 1e9)
print(sorted(rates)[1])
`;

let available: boolean | null = null;

/** numpy's float32 M×K×N product in GFLOP/s on this machine, or null where it cannot be measured. */
export async function nativeBlasGflops(M: number, K: number, N: number, seconds: number): Promise<number | null> {
  if (!isNode || available === false) return null;
  const name = 'node:child_process';
  const { execFile } = (await import(/* @vite-ignore */ name)) as typeof import('node:child_process');
  const run = (args: string[]) =>
    new Promise<string | null>((resolve) => {
      execFile('python3', ['-c', SCRIPT, ...args], { timeout: 120_000 }, (err, stdout) => resolve(err ? null : stdout.trim()));
    });
  const out = await run([String(M), String(K), String(N), String(Math.max(0.3, seconds))]);
  const gflops = out === null ? NaN : Number(out);
  available = Number.isFinite(gflops);
  return available ? gflops : null;
}
