// The Train view's module worker (bundled by build.mjs as dist/web/train-worker.js from the same
// src/ as the CLI). It owns its own WebGPU device, so every training step — recording, submitting,
// waiting, reading back losses, writing checkpoints — runs here and the page's main thread only
// draws the messages it gets. One session at a time; messages: protocol.ts. A lost device (the
// browser's GPU process restarted) is not the end of a run: the worker takes a new device and
// continues the run from its last checkpoint in OPFS, as a reload would.

import { init, runtime, shutdown } from '../../../src/device/runtime.js';
import { failureMessage } from './failure.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { PriorSession } from './prior-session.js';
import { TokenizerSession } from './session.js';

// (tsconfig's lib is DOM, not WebWorker: the worker's global scope, typed by hand)
const scope = self as unknown as {
  postMessage(m: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
const messageOf = failureMessage;

/** the run in this worker: the tokenizer's, or the prior's trained after it (one at a time: they share the device) */
interface Session { run(): Promise<void>; pause(): void; dispose(): void; readonly isRunning: boolean }
type Stage = 'tokenizer' | 'prior';
let session: Session | null = null;
let stage: Stage = 'tokenizer';
/** one start/continue at a time (the buttons are disabled meanwhile; this guards against a double click) */
let busy = false;
/** device losses recovered from; a device that keeps failing ends the run with an error instead */
let recoveries = 0;
const MAX_RECOVERIES = 3;

const continueSaved = (s: Stage) => () => (s === 'prior' ? PriorSession.continueSaved(post) : TokenizerSession.continueSaved(post));

/** The reason the device was lost, if it was (the `lost` promise settles a moment after the failure it causes). */
async function deviceLost(): Promise<string | null> {
  await new Promise((r) => setTimeout(r, 100));
  try {
    return runtime().lost;
  } catch {
    return null;
  }
}

/** A new device in place of the lost one. */
async function renewDevice(): Promise<void> {
  try {
    shutdown();
  } catch {
    // (the lost device may refuse its last flush: it is gone either way)
  }
  await init();
}

/**
 * Runs a session until it pauses, finishes or fails; a failure is one message to the page. When the
 * device was lost, the session's tensors went with it: a new device, and the run continues from its
 * last checkpoint (bit-exact with an uninterrupted run, as after a reload).
 */
async function drive(open: () => Promise<Session>, of: Stage): Promise<void> {
  if (busy || session?.isRunning) return;
  busy = true;
  let recover = false;
  try {
    if (runtime().lost) await renewDevice(); // (lost while idle: the next run gets a new one)
    const next = await open();
    if (next !== session) session?.dispose(); // (Resume hands back the same session; a new one frees the old one's GPU memory)
    session = next;
    stage = of;
    await session.run();
  } catch (e) {
    const lost = await deviceLost();
    if (lost && recoveries < MAX_RECOVERIES) {
      recoveries++;
      session = null; // (its buffers belonged to the lost device: nothing to free)
      await renewDevice();
      post({ type: 'device-lost', message: `The GPU device was lost (${lost}); training continues from the last checkpoint on a new device.` });
      recover = true;
    } else {
      console.error(e);
      post({ type: 'error', message: messageOf(e) });
    }
  } finally {
    busy = false;
  }
  if (recover) await drive(continueSaved(stage), stage);
}

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'start') void drive(() => TokenizerSession.start(m.data, { seconds: m.seconds, steps: m.steps, checkpointEvery: m.checkpointEvery }, post), 'tokenizer');
  else if (m.type === 'continue') void drive(continueSaved('tokenizer'), 'tokenizer');
  else if (m.type === 'continue-prior') void drive(continueSaved('prior'), 'prior');
  else if (m.type === 'prior') void drive(async () => PriorSession.start(m.kind, { seconds: m.seconds, steps: m.steps, checkpointEvery: m.checkpointEvery }, post), 'prior');
  else if (m.type === 'pause') session?.pause();
  else if (m.type === 'resume' && session) void drive(async () => session!, stage);
  else if (m.type === 'lose-device') runtime().device.destroy();
};

async function boot(): Promise<void> {
  if (!('gpu' in navigator) || !navigator.gpu) throw new Error('This browser does not expose WebGPU to workers (navigator.gpu is missing there).');
  await init();
  const r = runtime().report;
  const adapter = `${r.description || [r.vendor, r.architecture].filter(Boolean).join(' ') || 'an unnamed WebGPU adapter'}${r.isFallbackAdapter ? ' (fallback adapter)' : ''}`;
  let saved = null, savedPrior = null;
  try {
    saved = await TokenizerSession.saved();
    savedPrior = saved && (await PriorSession.saved());
  } catch (e) {
    post({ type: 'status', text: `The saved run could not be read (${messageOf(e)}); a new run will replace it.` });
  }
  post({ type: 'ready', adapter, saved, savedPrior });
}

boot().catch((e) => post({ type: 'error', message: messageOf(e) }));
