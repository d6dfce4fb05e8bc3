// The Train view's module worker (bundled by build.mjs as dist/web/train-worker.js from the same
// src/ as the CLI). It owns its own WebGPU device, so every training step — recording, submitting,
// waiting, reading back losses, writing checkpoints — runs here and the page's main thread only
// draws the messages it gets. One session at a time; messages: protocol.ts.

import { init, runtime } from '../../../src/device/runtime.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { PriorSession } from './prior-session.js';
import { TokenizerSession } from './session.js';

// (tsconfig's lib is DOM, not WebWorker: the worker's global scope, typed by hand)
const scope = self as unknown as {
  postMessage(m: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** the run in this worker: the tokenizer's, or the prior's trained after it (one at a time: they share the device) */
interface Session { run(): Promise<void>; pause(): void; dispose(): void; readonly isRunning: boolean }
let session: Session | null = null;
/** one start/continue at a time (the buttons are disabled meanwhile; this guards against a double click) */
let busy = false;

/** Runs a session until it pauses, finishes or fails; a failure is one message to the page. */
async function drive(open: () => Promise<Session>): Promise<void> {
  if (busy || session?.isRunning) return;
  busy = true;
  try {
    const next = await open();
    if (next !== session) session?.dispose(); // (Resume hands back the same session; a new one frees the old one's GPU memory)
    session = next;
    await session.run();
  } catch (e) {
    console.error(e);
    post({ type: 'error', message: messageOf(e) });
  } finally {
    busy = false;
  }
}

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'start') void drive(() => TokenizerSession.start(m.data, { seconds: m.seconds, steps: m.steps, checkpointEvery: m.checkpointEvery }, post));
  else if (m.type === 'continue') void drive(() => TokenizerSession.continueSaved(post));
  else if (m.type === 'continue-prior') void drive(() => PriorSession.continueSaved(post));
  else if (m.type === 'prior') void drive(async () => PriorSession.start({ seconds: m.seconds, steps: m.steps, checkpointEvery: m.checkpointEvery }, post));
  else if (m.type === 'pause') session?.pause();
  else if (m.type === 'resume' && session) void drive(async () => session!);
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
