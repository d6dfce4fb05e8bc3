// Pacing of training and sampling loops (Runtime.throttle): at most two steps on the device queue,
// and the host never spins while it waits.
//
// Each call submits the step just recorded at once, with a 4-byte copy into a small mappable
// "marker" buffer at its end, then waits for the *previous* step's marker. So the device always
// has the next step queued when one finishes (no bubble while the host notices and submits, which
// the one-step-in-flight pacing had), the host records step t+2 while the device runs t+1, and
// Dawn's queue and staging memory stay bounded (an unbounded run of ~150 steps without a wait
// crashed Dawn/lavapipe).
//
// The wait sleeps first. While any promise of Dawn's is pending, dawn.node polls its events from a
// setImmediate loop that keeps one CPU core busy: on a CPU adapter, a core the rasteriser needs
// (tokenizer training: 29.5 images/s polling, 35–38 sleeping, on two cores). So the pacer sleeps
// on a timer through ~90% of the previous step's expected device time (a running estimate) and only
// then maps the marker (a buffer's map resolves once the submission that last used it is done).

const MAP_READ = 0x0001;
const MARKER_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST
const SOURCE_USAGE = 0x04 | 0x08; // COPY_SRC | COPY_DST

/** What the pacer needs from the runtime. */
export interface PacerHost {
  device: GPUDevice;
  /** records a buffer copy at the end of the recorded work */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void;
  /** submits the recorded work */
  flush(): void;
  /** awaits a device promise, failing fast on a device error */
  guarded<T>(wait: Promise<T>): Promise<T>;
}

interface InFlight {
  marker: GPUBuffer;
  submittedAt: number;
}

export class StepPacer {
  private source: GPUBuffer | null = null;
  private free: GPUBuffer[] = [];
  private inFlight: InFlight | null = null;
  /** when the last waited-for step was seen done */
  private doneAt = 0;
  /** running estimate of one step's device time, ms */
  private stepMs = 0;

  constructor(private readonly host: PacerHost) {}

  /** Submits what is recorded as one step, then waits until the step before it is done. */
  async step(): Promise<void> {
    const { device } = this.host;
    this.source ??= device.createBuffer({ size: 4, usage: SOURCE_USAGE });
    const marker = this.free.pop() ?? device.createBuffer({ size: 4, usage: MARKER_USAGE });
    this.host.copy(this.source, 0, marker, 0, 4);
    this.host.flush();
    const previous = this.inFlight;
    this.inFlight = { marker, submittedAt: performance.now() };
    if (!previous) return;

    // The device starts the previous step when it is submitted and the one before it is done.
    const start = Math.max(previous.submittedAt, this.doneAt);
    const asleep = start + 0.9 * this.stepMs - performance.now();
    // Timers wake a millisecond or two late: short steps (sampling a token) map at once.
    if (asleep >= 8) await new Promise((r) => setTimeout(r, asleep - 1));
    const asked = performance.now();
    await this.host.guarded(previous.marker.mapAsync(MAP_READ));
    previous.marker.unmap();
    this.free.push(previous.marker);
    const done = performance.now();
    // Done (almost) at once after waking: the step took less than the estimate (and `done − start`
    // counts the oversleep), so the estimate shrinks; otherwise the step took done − start.
    const overslept = done - asked < Math.max(2, 0.02 * this.stepMs);
    this.stepMs = overslept ? 0.8 * this.stepMs : 0.7 * this.stepMs + 0.3 * (done - start);
    this.doneAt = done;
  }

  /** Everything submitted is done (the runtime waited for the whole queue): no step in flight. */
  idle(): void {
    if (this.inFlight) this.free.push(this.inFlight.marker);
    this.inFlight = null;
  }
}
