// One way to get a GPUDevice, in Node (Dawn through the `webgpu` package) and in the browser
// (`navigator.gpu`). Nothing else in src/ knows which one it runs on.

export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  /** 'browser' or 'node' */
  host: 'browser' | 'node';
  /**
   * The host CPU's model name where the runtime can read it (Node: os.cpus()), else null. On a CPU
   * adapter the CPU is the device, and two CPUs with the same adapter description want different
   * register blocks (matmul-variant.ts subgroupRows).
   */
  cpu?: string | null;
  features: string[];
  limits: Record<string, number>;
  /**
   * The adapter's subgroup sizes (GPUAdapterInfo.subgroupMinSize/MaxSize) where the device was
   * created with the `subgroups` feature, else null: kernels that use subgroups check this.
   */
  subgroups: { minSize: number; maxSize: number } | null;
  /**
   * The WGSL language features the host's WebGPU implements (`GPU.wgslLanguageFeatures`, sorted;
   * empty where the host does not report them): e.g. read-only storage textures, which the CPU
   * kernels' operand textures prefer (ops/matmul-b-texture.ts).
   */
  wgslFeatures: string[];
}

export const NO_ADAPTER_MESSAGE =
  'No WebGPU adapter found: on Linux without a GPU install Vulkan and Mesa\'s lavapipe ' +
  '(Debian/Ubuntu: `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`, or run `npm run setup` as root); ' +
  'in a browser, enable WebGPU (Chrome 113+, or --enable-unsafe-webgpu).';

/** Limits we ask for: as much as the adapter offers of the ones kernels size themselves by. */
const WANTED_LIMITS = [
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxBindGroups',
] as const;

async function nodeGPU(): Promise<GPU> {
  // The module name lives in a variable so that browser bundlers never try to resolve it.
  const name = 'webgpu';
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = await import(/* @vite-ignore */ name);
  } catch (e) {
    throw new Error(`The 'webgpu' package (Dawn for Node) could not be loaded: run \`npm ci\`. (${(e as Error).message})`);
  }
  Object.assign(globalThis, mod.globals);
  // Dawn tears its instance down when this object is garbage-collected, crashing the live device
  // (segfault in the next onSubmittedWorkDone/mapAsync): keep it reachable for the process's life.
  nodeInstance ??= mod.create([]);
  return nodeInstance;
}
let nodeInstance: GPU | null = null;

async function hostCpuModel(): Promise<string | null> {
  const name = 'node:os'; // (a variable: browser bundlers never resolve it)
  try {
    const os = (await import(/* @vite-ignore */ name)) as { cpus(): { model: string }[] };
    return os.cpus()[0]?.model ?? null;
  } catch {
    return null;
  }
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapter: GPUAdapter;
  report: AdapterReport;
}

/** `features`: optional features to enable where the adapter has them (e.g. timestamps for profiling). */
export async function acquireDevice(features: GPUFeatureName[] = []): Promise<AcquiredDevice> {
  // Node first (a peer library such as TF.js may have installed a navigator.gpu shim there).
  const isNode = typeof process !== 'undefined' && !!(process as { versions?: { node?: string } }).versions?.node;
  const inBrowser = !isNode && typeof navigator !== 'undefined' && !!(navigator as Navigator).gpu;
  const gpu = inBrowser ? (navigator as Navigator).gpu : await nodeGPU();
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter && inBrowser) {
    adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions);
  }
  if (!adapter) throw new Error(NO_ADAPTER_MESSAGE);

  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const requiredFeatures = features.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const sg = info as unknown as { subgroupMinSize?: number; subgroupMaxSize?: number };
  const subgroups =
    device.features.has('subgroups') && (sg.subgroupMinSize ?? 0) > 0 ? { minSize: sg.subgroupMinSize!, maxSize: sg.subgroupMaxSize ?? sg.subgroupMinSize! } : null;
  const limits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) limits[k] = (device.limits as unknown as Record<string, number>)[k];
  limits.minStorageBufferOffsetAlignment = device.limits.minStorageBufferOffsetAlignment;
  limits.minUniformBufferOffsetAlignment = device.limits.minUniformBufferOffsetAlignment;
  const report: AdapterReport = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    isFallbackAdapter: !!(info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    host: inBrowser ? 'browser' : 'node',
    cpu: inBrowser ? null : await hostCpuModel(),
    features: [...adapter.features].sort(),
    limits,
    subgroups,
    wgslFeatures: [...((gpu as unknown as { wgslLanguageFeatures?: Iterable<string> }).wgslLanguageFeatures ?? [])].sort(),
  };
  return { device, adapter, report };
}

/** True when the adapter is a CPU rasteriser (lavapipe/llvmpipe/SwiftShader): kernels pick CPU-friendly variants. */
export function isCpuAdapter(r: AdapterReport): boolean {
  const s = `${r.vendor} ${r.architecture} ${r.description}`.toLowerCase();
  return r.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|mesa|cpu/.test(s);
}
