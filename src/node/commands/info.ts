// vqgpu info: the adapter we run on and the limits kernels size themselves by.
import { runtime } from '../../device/runtime.js';

export async function info(): Promise<void> {
  const r = runtime().report;
  console.log(JSON.stringify({ ...r, cpuAdapter: runtime().isCpu }, null, 2));
}
