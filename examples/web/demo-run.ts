// `?demo=…`: the page samples on its own, through the same controls and code a visitor uses, then
// sets document.body.dataset.status to "done" (or "error: <message>") and leaves what it drew in
// `window.vqgpuDemo`. The browser test (kernels-test/web.node.test.ts) compares those tokens with
// Node's; examples/web/screenshot.mjs photographs the result. Parameters:
//   demo=ar[,diffusion,diffusion-d3pm,mask] (or 1: ar)   the priors to sample, one grid each, in this order
//   class=each|drawn|INDEX (default each) n=IMAGES (drawn/INDEX; default 9)   seed=S (default 1)
//   cfg=S (default: the prior's DEFAULT_CFG)   steps=N   temperature=T   set=NAME (the model set; main.ts)

import type { AdapterReport } from '../../src/device/gpu.js';
import { PRIOR_VARIANTS, type PriorVariant } from '../../src/models/prior/config.js';
import type { SampleSettings } from './generate.js';
import type { ModelSet } from './models.js';
import type { SampleTab, Ui } from './sample-tab.js';

export interface DemoResult {
  adapter: AdapterReport;
  /** the model set sampled */
  set: string;
  runs: {
    prior: PriorVariant;
    settings: SampleSettings;
    labels: number[];
    /** [n, G·G] row-major */
    tokens: number[];
    msPerImage: number;
  }[];
}

declare global {
  interface Window {
    vqgpuDemo?: DemoResult;
  }
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** The priors `demo=` asks for; throws on a kind that is not a prior. */
export function demoKinds(param: string): PriorVariant[] {
  const kinds = param === '1' ? ['ar'] : param.split(',').map((k) => k.trim());
  for (const k of kinds) if (!PRIOR_VARIANTS.includes(k as PriorVariant)) throw new Error(`demo=${param}: '${k}' is not a prior (${PRIOR_VARIANTS.join(', ')}).`);
  return kinds as PriorVariant[];
}

/** Sets a control as a visitor would (the change/input event runs the page's own handlers). */
function setControl(id: string, value: string, event: 'change' | 'input'): void {
  const el = $<HTMLInputElement | HTMLSelectElement>(id);
  el.value = value;
  if (el.value !== value) throw new Error(`demo: '${value}' is not a choice of #${id}.`);
  el.dispatchEvent(new Event(event));
}

/** Samples one grid per asked prior as one task of the page (status "done" only after the last). */
export async function runDemo(params: URLSearchParams, models: ModelSet, tab: SampleTab, ui: Ui, adapter: AdapterReport): Promise<void> {
  await ui.run('sampling', async () => {
    const kinds = demoKinds(params.get('demo') ?? '1');
    const result: DemoResult = { adapter, set: models.name, runs: [] };
    tab.classes.gridImages = Number(params.get('n') ?? 9);
    for (const kind of kinds) {
      if (!models.priors[kind]) throw new Error(`demo: the model set '${models.name}' has no ${kind} prior.`);
      setControl('prior', kind, 'change'); // resets the class list and S to this prior's default
      if (!$<HTMLSelectElement>('class').disabled) setControl('class', params.get('class') ?? 'each', 'change');
      for (const id of ['seed', 'cfg', 'steps', 'temperature']) {
        const v = params.get(id);
        if (v !== null) setControl(id, v, 'input');
      }
      const r = await tab.sample();
      result.runs.push({ prior: kind, settings: r.settings, labels: [...r.labels], tokens: [...r.tokens], msPerImage: r.ms / r.labels.length });
    }
    window.vqgpuDemo = result;
  });
}
