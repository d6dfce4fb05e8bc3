// The image classifier's one typed config, saved inside every checkpoint (safetensors metadata
// "config", under `classifier`), so the checkpoint alone rebuilds the model and names its classes.

export interface ClassifierConfig {
  kind: 'vqgpu-classifier';
  version: 1;
  /** image side in pixels the model was trained at (inputs are [N, 3, size, size] in [-1, 1]) */
  size: number;
  /** channels per stage; every stage after the first starts with a stride-2 3×3 convolution */
  widths: number[];
  /** further 3×3 convolutions per stage after its first */
  depth: number;
  /** group-norm groups (min(groups, channels) per layer) */
  groups: number;
  /** class names; the logits follow this order */
  classes: string[];
}

export function makeClassifierConfig(o: { size: number; classes: string[]; widths?: number[]; depth?: number; groups?: number }): ClassifierConfig {
  const widths = o.widths ?? [32, 64, 128];
  const groups = o.groups ?? 8;
  const depth = o.depth ?? 0;
  if (!Number.isInteger(o.size) || o.size < 4) throw new Error(`classifier: size must be an integer ≥ 4, got ${o.size}.`);
  if (o.size >> (widths.length - 1) < 1) throw new Error(`classifier: ${widths.length} stages halve a ${o.size} px image below 1 pixel.`);
  if (o.classes.length < 2) throw new Error(`classifier: needs at least 2 classes, got ${o.classes.length}.`);
  if (!widths.length || widths.some((w) => !Number.isInteger(w) || w < 1 || w % Math.min(groups, w) !== 0)) {
    throw new Error(`classifier: widths ${widths.join(',')} must be positive integers that split into ${groups} group-norm groups.`);
  }
  if (!Number.isInteger(depth) || depth < 0) throw new Error(`classifier: depth must be an integer ≥ 0, got ${depth}.`);
  return { kind: 'vqgpu-classifier', version: 1, size: o.size, widths: [...widths], depth, groups, classes: [...o.classes] };
}

/** Checks a config read from a file (untrusted) and returns it typed; errors name `source`. */
export function checkClassifierConfig(c: unknown, source: string): ClassifierConfig {
  const t = c as ClassifierConfig;
  if (!t || t.kind !== 'vqgpu-classifier') {
    const kind = (c as { kind?: string } | null)?.kind ?? 'unknown';
    throw new Error(`${source} is not a classifier checkpoint (its config says kind '${kind}', expected 'vqgpu-classifier').`);
  }
  if (t.version !== 1) throw new Error(`${source}: classifier config version ${t.version} is not supported (expected 1).`);
  const ok = Number.isInteger(t.size) && Array.isArray(t.widths) && t.widths.every((w) => Number.isInteger(w) && w > 0) && Number.isInteger(t.depth)
    && Number.isInteger(t.groups) && Array.isArray(t.classes) && t.classes.every((x) => typeof x === 'string') && t.classes.length >= 2;
  if (!ok) throw new Error(`${source}: the classifier config lacks a valid size, widths, depth, groups or classes (≥ 2 names).`);
  return t;
}
