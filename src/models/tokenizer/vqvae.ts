// The tokenizer: encoder → vector quantizer → decoder (the generator), rebuilt from its config.
// images [N, 3, S, S] in [-1, 1] ⇄ tokens [N, G, G] (i32 indices into the codebook).

import { Module } from '../../nn/module.js';
import { permute } from '../../ops/layout.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { TokenizerConfig } from './config.js';
import { Decoder } from './decoder.js';
import { Encoder } from './encoder.js';
import { VectorQuantizer, type QuantizerOutput } from './quantizer.js';

export interface ReconstructOutput extends QuantizerOutput {
  /** [N, 3, S, S] */
  recon: Tensor;
}

export class VQVAE extends Module {
  readonly encoder: Encoder;
  readonly quantizer: VectorQuantizer;
  readonly decoder: Decoder;

  constructor(readonly config: TokenizerConfig) {
    super();
    this.encoder = this.child('encoder', new Encoder(config));
    this.quantizer = this.child('quantizer', new VectorQuantizer(config.codebook, config.codeDim, config.quantizer));
    this.decoder = this.child('decoder', new Decoder(config));
  }

  /** The training forward pass: reconstruction plus the quantizer's outputs and loss. */
  forward(images: Tensor, stats = false): ReconstructOutput {
    const q = this.quantizer.forward(this.encoder.forward(images), stats);
    return { ...q, recon: this.decoder.forward(q.zq) };
  }

  /** images [N, 3, S, S] → tokens [N, G, G] i32 */
  encode(images: Tensor): Tensor {
    return this.quantizer.encodeIndices(this.encoder.forward(images));
  }

  /** tokens [N, G, G] i32 → images [N, 3, S, S] */
  decode(tokens: Tensor): Tensor {
    const codes = this.quantizer.lookup(tokens); // [N, G, G, D]
    return this.decoder.forward(permute(codes, [0, 3, 1, 2]));
  }
}
