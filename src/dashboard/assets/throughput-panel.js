// The throughput panel: the chart, its legend, live counting between refreshes, and a readout for the bar under the mouse.
import { bucketAt, drawThroughput } from './chart.js';
import { byId, el, replace } from './dom.js';
import { clock, count, rate } from './format.js';
import { FINAL_STATES as OUTCOMES } from './task-states.js';

export class ThroughputPanel {
  constructor() {
    this.canvas = byId('throughput-chart');
    this.data = null;
    this.hover = -1;
    this.frame = 0;
    this.canvas.addEventListener('mousemove', (e) => this.setHover(bucketAt(this.canvas, this.data, e.clientX)));
    this.canvas.addEventListener('mouseleave', () => this.setHover(-1));
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  /** From GET /api/dashboard: {bucket_s, since, buckets: [{start, completed, failed, cancelled}]}. */
  load(throughput) {
    this.data = {
      bucketMs: throughput.bucket_s * 1000,
      since: Date.parse(throughput.since),
      buckets: throughput.buckets.map((b) => ({ ...b, start: Date.parse(b.start) })),
    };
    this.render();
  }

  /** A task just finished: count it at once instead of waiting for the next refresh. */
  count(event) {
    if (!this.data || !OUTCOMES.includes(event.kind)) return;
    const at = Date.parse(event.at);
    const { bucketMs, buckets } = this.data;
    let last = buckets[buckets.length - 1];
    // The window slides when the event falls past the newest bucket.
    while (last && at >= last.start + bucketMs) {
      buckets.shift();
      last = { start: last.start + bucketMs, completed: 0, failed: 0, cancelled: 0 };
      buckets.push(last);
    }
    const bucket = buckets.find((b) => at >= b.start && at < b.start + bucketMs);
    if (!bucket) return;
    bucket[event.kind] += 1;
    // A busy pool finishes many tasks a frame: draw once per frame.
    if (!this.frame) this.frame = requestAnimationFrame(() => ((this.frame = 0), this.render()));
  }

  setHover(i) {
    if (i === this.hover) return;
    this.hover = i;
    this.render();
  }

  render() {
    this.draw();
    const buckets = this.data?.buckets ?? [];
    const sums = Object.fromEntries(OUTCOMES.map((k) => [k, buckets.reduce((n, b) => n + b[k], 0)]));
    const windowMin = buckets.length * (this.data?.bucketMs ?? 0) / 60000;
    const known = Math.min(windowMin, Math.max(1, (Date.now() - (this.data?.since ?? Date.now())) / 60000));
    // Says what the number is before the number: an average of completed tasks per minute over the minutes counted.
    byId('throughput-note').textContent = this.data ? `completed per minute, last ${Math.max(1, Math.round(known))} min: ${rate(sums.completed / known)}` : '';
    const legend = OUTCOMES.map((k) => el('span', {}, el('span', { class: 'swatch', style: { background: `var(--${k})` } }), `${k} `, el('b', { text: count(sums[k]) })));
    const hovered = buckets[this.hover];
    if (hovered) {
      const end = new Date(hovered.start + this.data.bucketMs).toISOString();
      legend.push(el('span', { class: 'hover', text: `${clock(new Date(hovered.start).toISOString())}–${clock(end)}: ${hovered.completed} completed, ${hovered.failed} failed, ${hovered.cancelled} cancelled` }));
    }
    replace(byId('throughput-legend'), legend);
  }

  draw() {
    if (this.data) drawThroughput(this.canvas, this.data, this.hover);
  }
}
