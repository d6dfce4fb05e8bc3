// Progress lines and interrupt handling shared by the training commands.

function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(4);
}

/** Seconds as `45s`, `3m05s`, `1h02m`; a budget already spent reads `0s`, never a negative time. */
export function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  s = Math.max(0, Math.round(s));
  const m = Math.floor(s / 60), h = Math.floor(m / 60);
  return h ? `${h}h${String(m % 60).padStart(2, '0')}m` : m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** `step 120/2000 | loss 0.1234 | ... | left 3m05s` */
export function progressLine(step: number, total: number, parts: Record<string, number>, leftSeconds: number): string {
  const head = `step ${step}${Number.isFinite(total) ? `/${total}` : ''}`;
  const body = Object.entries(parts).map(([k, v]) => `${k} ${fmtNum(v)}`);
  return [head, ...body, `left ${fmtDuration(leftSeconds)}`].join(' | ');
}

/**
 * Ctrl-C / SIGTERM: the first signal asks the loop to stop (it writes a checkpoint, then exits);
 * a second one exits at once. Returns a function that removes the handlers.
 */
export function onInterrupt(stop: () => void): () => void {
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    if (++count > 1) process.exit(130);
    console.error(`\n${sig}: finishing the step and writing a checkpoint (again to quit at once)`);
    stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
