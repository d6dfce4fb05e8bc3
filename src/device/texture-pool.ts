// Texture pool: rgba32float 2-D array textures reused by size, for kernels that read an operand
// through the texture unit (the subgroup matmul's B on CPU adapters: ops/matmul-texture.ts). A
// texture is handed back as soon as the dispatch that reads it is recorded: the queue runs commands
// in order, so the next writer of a reused texture runs after that reader.

// GPUTextureUsage is a global only once a device layer is loaded; the numeric values are fixed by the spec.
const COPY_DST = 0x02, TEXTURE_BINDING = 0x04, STORAGE_BINDING = 0x08;
export const OPERAND_TEXTURE_USAGE = COPY_DST | TEXTURE_BINDING | STORAGE_BINDING;

export interface PooledTexture {
  texture: GPUTexture;
  /** the whole texture as a 2-D array, for textureLoad and textureStore */
  view: GPUTextureView;
  key: string;
}

export class TexturePool {
  private free = new Map<string, PooledTexture[]>();
  /** textures ever created (a warm step must not raise this) */
  created = 0;

  constructor(private device: GPUDevice) {}

  /** An rgba32float texture of `width` × `height` texels and `layers` layers. */
  acquire(width: number, height: number, layers: number): PooledTexture {
    const key = `${width}x${height}x${layers}`;
    const t = this.free.get(key)?.pop();
    if (t) return t;
    const texture = this.device.createTexture({
      label: `operand-${key}`,
      size: [width, height, layers],
      format: 'rgba32float',
      usage: OPERAND_TEXTURE_USAGE,
    });
    this.created++;
    return { texture, view: texture.createView({ dimension: '2d-array' }), key };
  }

  release(t: PooledTexture): void {
    let list = this.free.get(t.key);
    if (!list) this.free.set(t.key, (list = []));
    list.push(t);
  }

  /** Destroys every resting texture. */
  trim(): void {
    for (const list of this.free.values()) for (const t of list) t.texture.destroy();
    this.free.clear();
  }
}
