// Per-dispatch parameters (a kernel's `params` uniform struct, at most 256 bytes) staged in 256-byte
// aligned slots of a few 64 KiB uniform buffers: host copies filled as dispatches are recorded and
// written to the GPU once per submit, so the slot of dispatch i is never overwritten before
// dispatch i runs, and a submit of hundreds of dispatches costs a few writeBuffer calls.

const ARENA_BYTES = 64 * 1024;
const UNIFORM_USAGE = 0x40 | 0x08; // UNIFORM | COPY_DST

interface ArenaChunk {
  gpu: GPUBuffer;
  cpu: Uint8Array<ArrayBuffer>;
  used: number;
}

export class UniformArena {
  private chunks: ArenaChunk[] = [];
  private index = 0;

  constructor(private readonly device: GPUDevice, private readonly alignment: number) {}

  /** Stages `params` (4-byte fields) for the next submit; returns its binding. */
  stage(params: ArrayBufferView): GPUBufferBinding {
    const bytes = new Uint8Array(params.buffer, params.byteOffset, params.byteLength);
    const size = Math.max(16, Math.ceil(bytes.length / 16) * 16);
    let chunk = this.chunks[this.index];
    if (chunk && chunk.used + size > ARENA_BYTES) chunk = this.chunks[++this.index];
    if (!chunk) {
      chunk = {
        gpu: this.device.createBuffer({ label: 'uniform-arena', size: ARENA_BYTES, usage: UNIFORM_USAGE }),
        cpu: new Uint8Array(ARENA_BYTES),
        used: 0,
      };
      this.chunks[this.index] = chunk;
    }
    const offset = chunk.used;
    chunk.cpu.fill(0, offset, offset + size);
    chunk.cpu.set(bytes, offset);
    chunk.used = Math.ceil((offset + size) / this.alignment) * this.alignment;
    return { buffer: chunk.gpu, offset, size };
  }

  /** Writes what was staged since the last submit to the GPU (call before submitting); the slots are free again. */
  upload(): void {
    for (let i = 0; i <= this.index && i < this.chunks.length; i++) {
      const c = this.chunks[i];
      if (c.used) this.device.queue.writeBuffer(c.gpu, 0, c.cpu, 0, c.used);
      c.used = 0;
    }
    this.index = 0;
  }
}
