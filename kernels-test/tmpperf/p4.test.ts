import { expect, it } from 'vitest';
import { init } from '../../src/device/runtime.js';
it('heavy', async () => {
  const rt = await init();
  const d = rt.device;
  const N = 1 << 20;
  const buf = d.createBuffer({ size: N * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const m = d.createShaderModule({ code: `@group(0) @binding(0) var<storage, read_write> a: array<f32>;
  @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
    var x = f32(g.x); for (var i = 0u; i < 400u; i++) { x = x * 1.0001 + sin(x); } a[g.x] = x; }` });
  const p = d.createComputePipeline({ layout: 'auto', compute: { module: m, entryPoint: 'main' } });
  const bg = d.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  const t0 = performance.now();
  for (let k = 0; k < 4; k++) {
    const e = d.createCommandEncoder(); const pass = e.beginComputePass();
    pass.setPipeline(p); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(N / 64); pass.end();
    d.queue.submit([e.finish()]);
  }
  await d.queue.onSubmittedWorkDone();
  console.log('gpu ms', performance.now() - t0);
  expect(1).toBe(1);
});
