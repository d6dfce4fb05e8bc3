// What a tokenizer checkpoint holds (browser-safe): the VQ-VAE (`vqvae.*`) and its discriminator
// (`disc.*`) as one container module, so that one state dict saves and restores both.

import { Module } from '../../nn/module.js';
import type { TokenizerConfig } from './config.js';
import { Discriminator } from './discriminator.js';
import { VQVAE } from './vqvae.js';

export class TokenizerState extends Module {
  readonly vqvae: VQVAE;
  readonly disc: Discriminator;
  constructor(readonly config: TokenizerConfig) {
    super();
    this.vqvae = this.child('vqvae', new VQVAE(config));
    this.disc = this.child('disc', new Discriminator(config.disc, config.groups));
  }
}
