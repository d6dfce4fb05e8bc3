// The class picker and the guidance slider of the Sample tab, and the class names written over
// the cells of a grid. Class-conditional priors list their classes (the prior config's names);
// the picker offers one image per class (a 3×3 grid for the emoji's 9 categories), images of
// classes drawn from the training frequencies (`vqgpu sample` without --class), or one class. The
// slider is S of classifier-free guidance; it resets to the prior's default (the CLI's DEFAULT_CFG
// for its kind) whenever another prior is chosen, as `vqgpu sample` without --cfg would use.

import type { TokenCache } from '../../src/data/token-cache.js';
import { classNames, defaultGuidanceScale } from '../../src/models/prior/classes.js';
import type { PriorConfig } from '../../src/models/prior/config.js';
import { gridCols } from './draw.js';
import type { ClassChoice } from './generate.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export class ClassControls {
  private names: string[] = [];
  private last: PriorConfig | null = null;
  /** images in a grid when the picker does not ask for one per class (`?n=` of the page's test run) */
  gridImages = 9;

  constructor() {
    $('cfg').addEventListener('input', () => this.showCfg());
  }

  private showCfg(): void {
    $('cfg-value').textContent = Number($<HTMLInputElement>('cfg').value).toFixed(2);
  }

  /** Fits the controls to the chosen prior (null: none loaded); keeps the chosen class when it still exists. */
  update(c: PriorConfig | null, cache: TokenCache | null): void {
    const select = $<HTMLSelectElement>('class');
    const slider = $<HTMLInputElement>('cfg');
    const conditional = !!c && c.classes > 0;
    select.disabled = slider.disabled = !conditional;
    if (!c || !conditional) {
      this.names = [];
      select.replaceChildren(new Option(c ? 'unconditional prior' : '–', 'drawn'));
      slider.value = '1';
    } else {
      const before = select.value;
      this.names = classNames(c, cache);
      select.replaceChildren(
        new Option(`one of each class (${c.classes})`, 'each'),
        new Option('drawn from the training frequencies', 'drawn'),
        ...this.names.map((n, i) => new Option(n, String(i))),
      );
      select.value = Array.from(select.options).some((o) => o.value === before) && before ? before : 'each';
      // a new prior (kind or file) starts at its own default S, as `vqgpu sample` without --cfg
      if (c !== this.last) slider.value = String(defaultGuidanceScale(c));
    }
    this.last = c;
    this.showCfg();
  }

  /** What the picker asks for. */
  choice(): ClassChoice {
    const v = $<HTMLSelectElement>('class').value;
    if (v === 'each') return { each: true };
    if (v === 'drawn' || v === '') return { drawn: this.gridImages };
    return { label: Number(v), n: this.gridImages };
  }

  cfg(): number {
    return Number($<HTMLInputElement>('cfg').value);
  }

  /** Name of class `label` ('' for −1 or an unconditional prior). */
  name(label: number): string {
    return this.names[label] ?? '';
  }

  /**
   * Writes each image's class name over its cell of the grid (when the grid shows more than one
   * class); clears them otherwise. The captions lie in a CSS grid over the canvas, cell for cell.
   */
  caption(labels: Int32Array | null): void {
    const box = $('grid-captions');
    const distinct = labels ? new Set(labels).size : 0;
    if (!labels || distinct < 2 || labels.some((l) => !this.name(l))) {
      box.replaceChildren();
      return;
    }
    box.style.gridTemplateColumns = `repeat(${gridCols(labels.length)}, 1fr)`;
    box.replaceChildren(...Array.from(labels, (l) => Object.assign(document.createElement('span'), { textContent: this.name(l) })));
  }
}
