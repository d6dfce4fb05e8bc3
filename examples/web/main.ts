// vqgpu in the browser: the same src/ as the Node CLI, on the page's WebGPU adapter. Boots the
// runtime (or says clearly why it cannot), loads the demo checkpoint shipped with the page, and wires
// the two tabs. `?demo=1` samples a grid with the demo checkpoint on its own and then sets
// document.body.dataset.status to "done" (or "error: <message>"); the browser test waits for that
// and reads the tokens from `window.vqgpuDemo`.

import { init, runtime } from '../../src/device/runtime.js';
import type { AdapterReport } from '../../src/device/gpu.js';
import { setupBenchTab } from './bench-tab.js';
import { DEMO_SETTINGS, type SampleSettings } from './generate.js';
import { loadDemo, loadPicked, ModelSet } from './models.js';
import { SampleTab, type Ui } from './sample-tab.js';

export interface DemoResult {
  adapter: AdapterReport;
  settings: SampleSettings;
  /** [9, G·G] row-major */
  tokens: number[];
  msPerImage: number;
}

declare global {
  interface Window {
    vqgpuDemo?: DemoResult;
  }
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const setStatus = (s: string) => (document.body.dataset.status = s);
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

function message(text: string, kind: 'info' | 'error' = 'info'): void {
  const el = $('message');
  el.textContent = text;
  el.className = kind;
  el.hidden = !text;
}

function progress(fraction: number, text = ''): void {
  $<HTMLProgressElement>('progress-bar').value = Math.max(0, Math.min(1, fraction));
  $('progress-text').textContent = text;
}

let busy = false;
const ui: Ui = {
  async run(label, task) {
    if (busy) return;
    busy = true;
    document.body.classList.add('busy');
    setStatus('working');
    message('');
    progress(0, `${label}…`);
    try {
      await task();
      progress(1, `${label}: done`);
      setStatus('done');
    } catch (e) {
      console.error(e);
      progress(0, `${label}: failed`);
      message(messageOf(e), 'error');
      setStatus(`error: ${messageOf(e)}`);
    } finally {
      busy = false;
      document.body.classList.remove('busy');
    }
  },
  progress,
  timing: (text) => ($('timing').textContent = text),
};

/** The adapter in words (the GLES/compat adapters report empty strings without developer features). */
function adapterName(r: AdapterReport): string {
  const name = r.description || [r.vendor, r.architecture].filter(Boolean).join(' ') || 'an unnamed WebGPU adapter';
  return `${name}${r.isFallbackAdapter ? ' (fallback adapter)' : ''}`;
}

/** No WebGPU: a message in the page instead of a blank screen. */
function noWebGPU(reason: string): void {
  $('app').hidden = true;
  const box = $('fatal');
  box.hidden = false;
  $('fatal-reason').textContent = reason;
  $('adapter').textContent = 'no WebGPU adapter';
  setStatus(`error: ${reason}`);
}

function setupTabs(): void {
  // (tsconfig's lib has no DOM.Iterable: NodeLists are walked with forEach)
  const buttons = document.querySelectorAll<HTMLButtonElement>('nav button');
  buttons.forEach((b) =>
    b.addEventListener('click', () => {
      buttons.forEach((o) => o.classList.toggle('active', o === b));
      document.querySelectorAll<HTMLElement>('main > section').forEach((s) => (s.hidden = s.id !== `tab-${b.dataset.tab}`));
    }),
  );
}

async function boot(): Promise<void> {
  setStatus('loading');
  if (!('gpu' in navigator) || !navigator.gpu) {
    noWebGPU('This browser does not expose WebGPU (navigator.gpu is missing).');
    return;
  }
  try {
    await init();
  } catch (e) {
    noWebGPU(messageOf(e).startsWith('No WebGPU adapter') ? 'The browser has WebGPU but gave no adapter (requestAdapter() returned null).' : messageOf(e));
    return;
  }
  const report = runtime().report;
  const name = adapterName(report);
  $('adapter').textContent = `Running on ${name} · max ${runtime().limits.maxComputeInvocationsPerWorkgroup} invocations per workgroup`;

  setupTabs();
  setupBenchTab(ui);
  const models = new ModelSet();
  const tab = new SampleTab(models, ui, () => name);
  const pick = (input: HTMLInputElement) =>
    input.addEventListener('change', () =>
      void ui.run('loading files', async () => {
        const loaded = await loadPicked(models, Array.from(input.files ?? []));
        input.value = '';
        await tab.modelsChanged();
        message(`Loaded ${loaded.join(', ')}.`);
      }),
    );
  pick($<HTMLInputElement>('pick-files'));
  pick($<HTMLInputElement>('pick-folder'));
  $('load-demo').addEventListener('click', () => void ui.run('loading the demo checkpoint', async () => {
    await loadDemo(models, 'demo/');
    await tab.modelsChanged();
  }));

  try {
    progress(0, 'loading the demo checkpoint…');
    await loadDemo(models, 'demo/');
    await tab.modelsChanged();
    progress(1, 'demo checkpoint loaded');
  } catch (e) {
    progress(0, '');
    message(`The demo checkpoint did not load: ${messageOf(e)} Pick checkpoint files instead.`, 'error');
    if (params.get('demo') === '1') {
      setStatus(`error: ${messageOf(e)}`);
      return;
    }
  }
  setStatus('ready');

  if (params.get('demo') === '1') {
    const settings = { ...DEMO_SETTINGS, seed: Number(params.get('seed') ?? DEMO_SETTINGS.seed) };
    await ui.run('demo grid', async () => {
      const { tokens, ms } = await tab.sampleGrid(settings);
      window.vqgpuDemo = { adapter: report, settings, tokens: [...tokens], msPerImage: ms / settings.n };
    });
  }
}

boot().catch((e) => {
  console.error(e);
  message(messageOf(e), 'error');
  setStatus(`error: ${messageOf(e)}`);
});
