// The transformer's one typed config (shared by the AR prior, the diffusion priors and the text
// demo; only the mask and the training objective differ). Saved inside every checkpoint.

export interface TransformerConfig {
  kind: 'vqgpu-transformer';
  version: 1;
  /** input vocabulary, special tokens included (start, mask, classes) */
  vocabIn: number;
  /** output vocabulary (the codebook size for priors) */
  vocabOut: number;
  /** positions (sequence length the model is built for) */
  seqLen: number;
  dim: number;
  layers: number;
  heads: number;
  /** MLP hidden width = mlpRatio · dim */
  mlpRatio: number;
  dropout: number;
  /** causal (autoregressive) or bidirectional attention */
  causal: boolean;
}

export function checkTransformerConfig(c: TransformerConfig): TransformerConfig {
  for (const k of ['vocabIn', 'vocabOut', 'seqLen', 'dim', 'layers', 'heads', 'mlpRatio'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`transformer config: ${k} must be a positive integer, got ${c[k]}.`);
  }
  if (c.dim % c.heads !== 0) throw new Error(`transformer config: dim ${c.dim} is not divisible by ${c.heads} heads.`);
  const d = c.dim / c.heads;
  if (d > 256) throw new Error(`transformer config: head dim ${d} exceeds 256.`);
  return c;
}
