// vqgpu in the browser: the same src/ as the Node CLI, on the page's WebGPU adapter. Boots the
// runtime (or says clearly why it cannot), loads the first reference model set shipped with the
// page (models/<set>/ of the repository, copied by the build; `?set=NAME` picks another), and wires
// the tabs. `?demo=…` samples on its own for the browser test and the screenshot (demo-run.ts);
// `?train=1[&seconds=S]` trains a tokenizer on the emoji set in the Train view's worker for S
// seconds (default 60), then sets body[data-status] to 'done' (or 'error: …') and body[data-losses]
// to the first and the last logged loss, for automated checks (train/train-tab.ts; the other
// `?train=` modes: automateTraining).

import { init, runtime } from '../../src/device/runtime.js';
import { PRIOR_VARIANTS, type PriorVariant } from '../../src/models/prior/config.js';
import type { AdapterReport } from '../../src/device/gpu.js';
import { setupBenchTab } from './bench-tab.js';
import { runDemo } from './demo-run.js';
import { listReferenceSets, loadPicked, loadReferenceSet, type ReferenceSet } from './model-sources.js';
import { ModelSet } from './models.js';
import { SampleTab, type Ui } from './sample-tab.js';
import { TrainTab } from './train/train-tab.js';

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

/** Fills the model-set picker; picking a set loads it in place of the current models. */
function setupModelSets(sets: ReferenceSet[], models: ModelSet, tab: SampleTab): (name: string) => Promise<void> {
  const select = $<HTMLSelectElement>('model-set');
  const load = async (name: string) => {
    const ref = sets.find((s) => s.name === name);
    if (!ref) throw new Error(`There is no reference model set '${name}' (this build has: ${sets.map((s) => s.name).join(', ') || 'none'}).`);
    await loadReferenceSet(models, ref, (done, total) => progress(done / total, `loading ${ref.name}: file ${done} of ${total}`));
    select.value = ref.name;
    await tab.modelsChanged();
  };
  select.replaceChildren(...sets.map((s) => new Option(`${s.name} (reference)`, s.name)));
  select.disabled = !sets.length;
  select.addEventListener('change', () => void ui.run(`loading ${select.value}`, () => load(select.value)));
  return load;
}

/**
 * `?train=…`: the Train view alone (no device on the main thread, no models loaded), for automated
 * checks. `train=1`: a fresh emoji run; `train=continue`: continue the run saved in OPFS (after a
 * reload); `train=manual`: nothing starts (the test drives the buttons). `seconds=S` is the time
 * budget; `steps=N` a step budget instead (a deterministic run), `checkpoint-every=K` the interval,
 * `lose-device=K` destroys the worker's device once after the checkpoint of step K (recovery check).
 */
/** `prior-kind=ar|diffusion|diffusion-d3pm|mask` (default: the page's picker, AR). */
function priorKindParam(): PriorVariant | undefined {
  const k = params.get('prior-kind');
  if (k === null) return undefined;
  if (!(PRIOR_VARIANTS as readonly string[]).includes(k)) throw new Error(`?prior-kind= must be one of ${PRIOR_VARIANTS.join(', ')}, got '${k}'.`);
  return k as PriorVariant;
}

async function automateTraining(mode: string): Promise<void> {
  setupTabs();
  document.querySelector<HTMLButtonElement>('nav button[data-tab="train"]')!.click();
  $('adapter').textContent = 'An automated run of the Train view: its worker holds the WebGPU device (named below).';
  const train = new TrainTab();
  (window as unknown as { vqgpuTrain: unknown }).vqgpuTrain = train.hooks;
  const seconds = Number(params.get('seconds') ?? 60);
  if (!(seconds > 0)) throw new Error(`?seconds= must be a positive number of seconds, got '${params.get('seconds')}'.`);
  const int = (name: string) => {
    const v = params.get(name);
    if (v === null) return undefined;
    if (!(Number.isInteger(Number(v)) && Number(v) > 0)) throw new Error(`?${name}= must be a positive integer, got '${v}'.`);
    return Number(v);
  };
  train.testBudget = { steps: int('steps'), checkpointEvery: int('checkpoint-every'), priorSteps: int('prior-steps'), loseDeviceAt: int('lose-device'), priorKind: priorKindParam() };
  if (mode === 'manual') {
    setStatus('ready');
    return;
  }
  setStatus('training');
  let end = mode === 'continue' ? await train.automateContinue() : await train.automate(seconds);
  const l = train.hooks.losses;
  if (l.length) document.body.dataset.losses = `${l[0][1]},${l[l.length - 1][1]}`;
  if (mode === 'prior' && end.type === 'done') {
    setStatus('training the prior');
    end = await train.automatePrior(Number(params.get('prior-seconds') ?? seconds));
  }
  const p = train.hooks.prior.losses; // (after `prior`, or `continue` of a saved prior)
  if (p.length) document.body.dataset.priorLosses = `${p[0][1]},${p[p.length - 1][1]}`;
  setStatus(end.type === 'done' ? 'done' : `error: ${end.type === 'error' ? end.message : end.type}`);
}

async function boot(): Promise<void> {
  setStatus('loading');
  if (!('gpu' in navigator) || !navigator.gpu) {
    noWebGPU('This browser does not expose WebGPU (navigator.gpu is missing).');
    return;
  }
  const trainMode = params.get('train');
  if (trainMode) return automateTraining(trainMode);
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
  // The Train view's worker (and its own GPU device) starts when the view is first opened; what it
  // trains can be opened in the Sample view (the checkpoints go from OPFS to this thread's device).
  let train: TrainTab | null = null;
  document.querySelector('nav button[data-tab="train"]')!.addEventListener('click', () => {
    if (train) return;
    train = new TrainTab();
    (window as unknown as { vqgpuTrain: unknown }).vqgpuTrain = train.hooks;
    train.onUseTrained = (files) =>
      ui.run('loading the models trained here', async () => {
        models.clear();
        const loaded = files.map((f) => models.add(f.bytes, f.name));
        models.name = 'trained here';
        const select = $<HTMLSelectElement>('model-set');
        if (!Array.from(select.options).some((o) => o.value === 'trained here')) select.append(new Option('trained here', 'trained here'));
        select.value = 'trained here';
        document.querySelector<HTMLButtonElement>('nav button[data-tab="sample"]')!.click();
        await tab.modelsChanged();
        message(`Loaded ${loaded.join(', ')}.`);
      });
  });
  const pick = (input: HTMLInputElement) =>
    input.addEventListener('change', () =>
      void ui.run('loading files', async () => {
        const loaded = await loadPicked(models, Array.from(input.files ?? []));
        input.value = '';
        const select = $<HTMLSelectElement>('model-set');
        if (!Array.from(select.options).some((o) => o.value === '')) select.append(new Option('your files', ''));
        select.value = '';
        await tab.modelsChanged();
        message(`Loaded ${loaded.join(', ')}.`);
      }),
    );
  pick($<HTMLInputElement>('pick-files'));
  pick($<HTMLInputElement>('pick-folder'));
  await tab.modelsChanged();

  const demo = params.get('demo');
  try {
    const sets = await listReferenceSets();
    const load = setupModelSets(sets, models, tab);
    if (!sets.length) throw new Error('This build of the page has no reference models (models/ was empty when it was built).');
    const want = params.get('set') ?? sets[0].name;
    progress(0, `loading the reference models ${want}…`);
    await load(want);
    progress(1, `reference models ${want} loaded`);
  } catch (e) {
    progress(0, '');
    message(`${messageOf(e)} Pick checkpoint files or a run folder instead.`, 'error');
    if (demo) {
      setStatus(`error: ${messageOf(e)}`);
      return;
    }
  }
  setStatus('ready');
  if (demo) await runDemo(params, models, tab, ui, report);
}

boot().catch((e) => {
  console.error(e);
  message(messageOf(e), 'error');
  setStatus(`error: ${messageOf(e)}`);
});
