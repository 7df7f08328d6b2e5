/**
 * How late this process's event loop has been running lately. Heartbeats of in-process workers, and the handling of
 * nodes' heartbeats, wait in the same loop as everything else: a loop held up for seconds (a burst of work far past
 * what the machine can do) makes every heartbeat late by that much, which is not every worker lost at once.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * The delay monitor's timer period (ms). A stall shows whatever the period (the timer fires that much late); each
 * monitor wakes an idle process 1000/period times a second, and the stalls that matter here last seconds.
 */
const SAMPLE_EVERY_MS = 100;

export class LoopLag {
  private readonly histogram = monitorEventLoopDelay({ resolution: SAMPLE_EVERY_MS });
  private previousMs = 0;
  private lastCheck = performance.now();

  /** `periodMs`: how often recentMaxMs is called (the sweep's interval); a call later than that was held up too. */
  constructor(private readonly periodMs: number) {
    this.histogram.enable();
  }

  /**
   * The longest the loop was held up (ms) since the previous call or the one before it (two sweeps: a heartbeat that
   * fell due in a stall shows as late in the sweep after it): what the delay monitor saw, or how late this call
   * itself is, whichever is more (the monitor's own timer may not have run yet after a stall).
   */
  recentMaxMs(): number {
    const now = performance.now();
    const late = Math.max(0, now - this.lastCheck - this.periodMs);
    this.lastCheck = now;
    const latest = Math.max(this.histogram.max / 1e6, late);
    this.histogram.reset();
    const worst = Math.max(latest, this.previousMs);
    this.previousMs = latest;
    return worst;
  }

  stop(): void {
    this.histogram.disable();
  }
}
