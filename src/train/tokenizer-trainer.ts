// One training step of the tokenizer (browser-safe; the CLI drives it). Per step, inside one tidy:
//   generator: L = rec + w_perc·perc + vq + λ·w_adv·adv   (adv only after the warm-up)
//     rec  = mean |x − x̂|  (or squared)
//     perc = Σ_l mean |D_l(x) − D_l(x̂)|   the discriminator's activations as perceptual features
//     adv  = −mean D(x̂)                    hinge generator loss
//     λ    = ‖∇_W rec‖ / (‖∇_W adv‖ + 1e-4), W the decoder's last conv weight (VQGAN's adaptive weight),
//            computed on the GPU (no readback) from two partial backward passes.
//   discriminator (from the start when perc is on, else after the warm-up): hinge loss
//     mean relu(1 − D(x)) + mean relu(1 + D(sg(x̂)))
// Loss parts accumulate on the GPU; the host reads them only at log time.

import { backward, grad, noGrad } from '../autograd/tape.js';
import { AdamW } from '../optim/adam.js';
import type { LrSchedule } from '../optim/optimizer.js';
import { warmupCosine, warmupLinear } from '../optim/schedule.js';
import { full, zeros } from '../ops/creation.js';
import { detach } from '../ops/detach.js';
import { abs, add, addScalar, clamp, div, mul, mulScalar, neg, relu, sqrt, square, sub } from '../ops/elementwise.js';
import { concat, reshape } from '../ops/layout.js';
import { mean, sum } from '../ops/reduce.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Discriminator } from '../models/tokenizer/discriminator.js';
import type { ReconstructOutput, VQVAE } from '../models/tokenizer/vqvae.js';

export interface LossConfig {
  rec: 'l1' | 'l2';
  /** weight of the perceptual (discriminator-feature) loss; 0 turns it off */
  perceptual: number;
  /** weight of the adversarial loss; 0 turns the discriminator off */
  adversarial: number;
  /** steps before the adversarial loss and the discriminator start */
  advWarmup: number;
  /** use the adaptive weight λ (else λ = 1) */
  adaptive: boolean;
  lr: number;
  discLr: number;
  /**
   * Generator learning rate: decay from `lr` to lr·lrFinal over this many steps (0 or absent:
   * constant), or 'auto': over the steps the run will make, which the training loop estimates as
   * it goes (`setDecaySteps`) when the run has a time budget. Part of the run's config, so a
   * resumed run follows the same curve ('auto': re-targeted to the resumed run's own end).
   */
  decaySteps?: number | 'auto';
  /** the decay's shape (absent: cosine) */
  decayShape?: 'cosine' | 'linear';
  /** the rate at the end of the decay, as a fraction of `lr` (absent: 0.1) */
  lrFinal?: number;
  /** global gradient-norm clip (0: off) */
  clip: number;
  /** the generator's Adam (β1, β2) (absent: VQGAN's (0.5, 0.9)) */
  betas?: [number, number];
  /**
   * Train the decoder alone: the encoder and the codebook stay as they are (no gradient, no EMA
   * update, no restarts), so the tokenizer keeps producing the same tokens and every token cache
   * and prior made with it stays valid (`train-tokenizer --encoder-from RUN`). Absent: false.
   */
  decoderOnly?: boolean;
}

export const DEFAULT_LOSS: LossConfig = {
  rec: 'l1',
  perceptual: 0.1,
  adversarial: 0.1,
  advWarmup: 2000,
  adaptive: true,
  // Adam at 1e-3 (betas 0.5, 0.9), the rate of the README's runs (width 16, batch 16); 2e-3 learned
  // slower over the first 150 steps there.
  lr: 1e-3,
  discLr: 1e-3,
  decaySteps: 0,
  clip: 1,
};

/** Names of the logged loss parts, in accumulator order. */
export const LOSS_PARTS = ['rec', 'perc', 'vq', 'adv', 'disc', 'lambda'] as const;

export class TokenizerTrainer {
  readonly optG: AdamW;
  readonly optD: AdamW | null;
  /** [LOSS_PARTS.length] running sums since the last `takeLosses()` */
  private acc: Tensor;
  private accSteps = 0;
  step = 0;
  private decayTarget = 0;

  constructor(readonly model: VQVAE, readonly disc: Discriminator | null, readonly loss: LossConfig) {
    const clipNorm = loss.clip > 0 ? loss.clip : undefined;
    const decay = loss.decaySteps === 'auto' ? 0 : (loss.decaySteps ?? 0);
    const trained = loss.decoderOnly ? model.decoder.parameters() : model.parameters();
    this.optG = new AdamW(trained, { lr: this.schedule(decay), betas: loss.betas ?? [0.5, 0.9], weightDecay: 0, clipNorm });
    this.optD = disc ? new AdamW(disc.parameters(), { lr: loss.discLr, betas: [0.5, 0.9], weightDecay: 0 }) : null;
    this.acc = keep(zeros([LOSS_PARTS.length]));
  }

  /** The generator's learning rate: the decay over `steps` steps (0: constant). */
  private schedule(steps: number): LrSchedule | number {
    if (steps <= 0) return this.loss.lr;
    const curve = this.loss.decayShape === 'linear' ? warmupLinear : warmupCosine;
    return curve({ base: this.loss.lr, warmupSteps: 0, totalSteps: steps, min: this.loss.lr * (this.loss.lrFinal ?? 0.1) });
  }

  /** Re-targets the decay of `decaySteps: 'auto'` to end at step `steps` (an estimate, re-asked as the run goes). */
  setDecaySteps(steps: number): void {
    if (this.loss.decaySteps !== 'auto') throw new Error("setDecaySteps: the run's decay is not 'auto'.");
    if (steps !== this.decayTarget) this.optG.lr = this.schedule(Math.max(1, Math.round(steps)));
    this.decayTarget = steps;
  }

  private usesDisc(): boolean {
    return !!this.disc && (this.loss.perceptual > 0 || this.loss.adversarial > 0);
  }

  /** One step on a batch x [N, 3, S, S]; `restart` allows dead-code restarts this step. */
  train(x: Tensor, restart: boolean): void {
    const advOn = !!this.disc && this.loss.adversarial > 0 && this.step >= this.loss.advWarmup;
    // The discriminator trains from the start when its features define the perceptual loss
    // (random features would make that loss meaningless), else once the adversarial term starts.
    const discOn = advOn || (!!this.disc && this.loss.perceptual > 0);
    tidy(() => {
      this.model.train();
      const out = this.loss.decoderOnly ? this.decodeFrozen(x) : this.model.forward(x);
      const diff = sub(x, out.recon);
      const rec = this.loss.rec === 'l1' ? mean(abs(diff)) : mean(square(diff));
      let total = add(rec, out.loss);
      let perc: Tensor = full([], 0);
      let adv: Tensor = full([], 0);
      let lambda: Tensor = full([], 0);
      if (this.usesDisc()) {
        const d = this.disc!;
        d.setTrainable(false);
        const real = noGrad(() => d.forward(x));
        const fake = d.forward(out.recon);
        if (this.loss.perceptual > 0) {
          perc = fake.features.map((f, i) => mean(abs(sub(f, real.features[i])))).reduce((a, b) => add(a, b));
          total = add(total, mulScalar(perc, this.loss.perceptual));
        }
        if (advOn) {
          adv = neg(mean(fake.logits));
          // VQGAN's λ compares the adversarial gradient with that of the whole reconstruction term.
          const nll = this.loss.perceptual > 0 ? add(rec, mulScalar(perc, this.loss.perceptual)) : rec;
          lambda = this.loss.adaptive ? this.adaptiveWeight(nll, adv) : full([], 1);
          total = add(total, mulScalar(mul(lambda, adv), this.loss.adversarial));
        }
        d.setTrainable(true);
      }
      backward(total);
      this.optG.step();
      this.optG.zeroGrad();
      if (!this.loss.decoderOnly) this.model.quantizer.emaUpdate(out, restart, this.step, this.optG.stepFactor);

      let discLoss: Tensor = full([], 0);
      if (discOn) {
        // Hinge loss on real images and detached reconstructions.
        const d = this.disc!;
        const lr = d.forward(x).logits, lf = d.forward(detach(out.recon)).logits;
        discLoss = add(mean(relu(addScalar(neg(lr), 1))), mean(relu(addScalar(lf, 1))));
        backward(discLoss);
        this.optD!.step();
        this.optD!.zeroGrad();
      }
      const parts = concat([rec, perc, out.loss, adv, discLoss, lambda].map((t) => reshape(detach(t), [1])), 0);
      const next = add(this.acc, parts);
      this.acc.dispose();
      this.acc = keep(next);
    });
    this.accSteps++;
    this.step++;
  }

  /**
   * The forward pass of decoder-only training: the frozen encoder and codebook in evaluation mode
   * outside autograd (z_q [N, D, G, G] exactly the codes the tokens name), the decoder trained on them.
   */
  private decodeFrozen(x: Tensor): ReconstructOutput {
    this.model.encoder.eval();
    this.model.quantizer.eval();
    const q = noGrad(() => this.model.quantizer.forward(this.model.encoder.forward(x), true));
    return { ...q, loss: full([], 0), recon: this.model.decoder.forward(q.zq) };
  }

  /** λ = ‖∇_W rec‖ / (‖∇_W adv‖ + 1e-4), clamped to [0, 1e4], detached; W = decoder.out.weight. */
  private adaptiveWeight(rec: Tensor, adv: Tensor): Tensor {
    const w = this.model.decoder.out.weight;
    const [gr] = grad(rec, [w]);
    const [ga] = grad(adv, [w]);
    if (!gr || !ga) throw new Error('adaptive weight: the losses do not reach the decoder\'s last layer.');
    return noGrad(() => clamp(div(sqrt(sum(square(gr))), addScalar(sqrt(sum(square(ga))), 1e-4)), 0, 1e4));
  }

  /** Mean loss parts since the last call (reads back: call at log time). */
  async takeLosses(): Promise<Record<(typeof LOSS_PARTS)[number], number>> {
    const v = (await this.acc.toArray()) as Float32Array;
    const n = Math.max(this.accSteps, 1);
    const out = Object.fromEntries(LOSS_PARTS.map((k, i) => [k, v[i] / n])) as Record<(typeof LOSS_PARTS)[number], number>;
    const z = keep(zeros([LOSS_PARTS.length]));
    this.acc.dispose();
    this.acc = z;
    this.accSteps = 0;
    return out;
  }
}
