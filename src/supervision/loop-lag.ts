/**
 * How late this process's event loop has been running lately. Heartbeats of in-process workers, and the handling of
 * nodes' heartbeats, wait in the same loop as everything else: a loop held up for seconds (a burst of work far past
 * what the machine can do) makes every heartbeat late by that much, which is not every worker lost at once.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export class LoopLag {
  private readonly histogram = monitorEventLoopDelay({ resolution: 20 });
  private previousMs = 0;

  constructor() {
    this.histogram.enable();
  }

  /**
   * The longest the loop was held up (ms) since the previous call or the one before it (two sweeps: a heartbeat that
   * fell due in a stall shows as late in the sweep after it).
   */
  recentMaxMs(): number {
    const latest = this.histogram.max / 1e6;
    this.histogram.reset();
    const worst = Math.max(latest, this.previousMs);
    this.previousMs = latest;
    return worst;
  }

  stop(): void {
    this.histogram.disable();
  }
}
