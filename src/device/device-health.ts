// What went wrong on the device, told as one sentence that names the op: uncaptured errors (which
// arrive asynchronously, after later ops were recorded), compile and per-dispatch validation errors,
// and the device's loss. Waits on the GPU race against a failure, so that after a validation error a
// submit's mapAsync/onSubmittedWorkDone that never resolves ends in the error instead of a hang.

export class DeviceHealth {
  /** why the device was lost (null while it works) */
  lost: string | null = null;
  /** the kernel of the op recorded last (named when an error quotes no kernel) */
  lastLabel = '';
  /** names of the kernels with a pipeline, to find the op a device error message quotes */
  readonly kernelNames = new Set<string>();
  private errors: string[] = [];
  private failure: Promise<void> = Promise.resolve();
  private fail: () => void = () => {};

  constructor(device: GPUDevice) {
    this.arm();
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => this.uncaptured(ev.error);
    device.lost.then((info) => {
      const last = this.lastLabel ? ` (last op: '${this.lastLabel}')` : '';
      if (info.reason !== 'destroyed') this.lost = `WebGPU device lost (${info.reason}): ${info.message}${last}`;
      else this.lost = `The WebGPU device was destroyed${last}.`;
      this.fail();
    });
  }

  /** Keeps an error found by an error scope (compile, per-dispatch validation), thrown at the next check. */
  note(message: string): void {
    this.errors.push(message);
  }

  /**
   * Keeps an uncaptured device error, naming its op: read from the message (Dawn and Chrome quote the
   * labels of the bind group and pipeline, which are kernel names); only when none is quoted does the
   * last op stand in. Follow-on errors ("... is invalid due to a previous error") add nothing.
   */
  private uncaptured(error: GPUError): void {
    const message = error.message.trim();
    if (this.errors.length && /invalid due to a previous error/i.test(message)) return;
    let op = '';
    for (const name of this.kernelNames) {
      if ((message.includes(`"${name}"`) || message.includes(`"${name}{`)) && name.length > op.length) op = name;
    }
    const kind = error.constructor?.name && error.constructor.name !== 'Object' ? error.constructor.name : 'GPUError';
    const where = op ? `in op '${op}'` : `after op '${this.lastLabel}' (set VQGPU_DEBUG=1 to name the failing op exactly)`;
    this.errors.push(`${kind} ${where}: ${message}`);
    this.fail();
  }

  /** Awaits `wait`, or throws the device's failure if one comes first. */
  async guarded<T>(wait: Promise<T>): Promise<T> {
    const failed = Symbol('failed');
    const r = await Promise.race([wait, this.failure.then(() => failed)]);
    this.check();
    if (r === failed) throw new Error('WebGPU: the device reported a failure while waiting for it.');
    return r as T;
  }

  /** Throws the device's loss or the recorded errors (once each), naming the op that caused them. */
  check(): void {
    if (this.lost) throw new Error(this.lost);
    if (this.errors.length) {
      const msg = this.errors.join('\n');
      this.errors = [];
      this.arm(); // reported: later waits race against the next error
      throw new Error(`WebGPU error: ${msg}`);
    }
  }

  private arm(): void {
    this.failure = new Promise<void>((resolve) => (this.fail = resolve));
  }
}
