// The throughput chart: finished tasks per bucket as stacked bars on a <canvas>, drawn by hand (no library).
import { FINAL_STATES } from './task-states.js';

/** One series per final state, coloured by the style's variable of that name. */
const SERIES = FINAL_STATES.map((s) => [s, `--${s}`]);

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** A round upper bound for the y axis: 4, 5, 10, 20, 25, 50, 100… */
function niceMax(n) {
  if (n <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

/**
 * Draws `data` ({bucketMs, since, buckets: [{start, completed, failed, cancelled}]}, times in ms) on the canvas, sized
 * for the device's pixel ratio. `hover` is the index of a highlighted bucket, or -1.
 */
export function drawThroughput(canvas, data, hover = -1) {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, height);

  const pad = { left: 34, right: 8, top: 8, bottom: 22 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const buckets = data?.buckets ?? [];
  const n = Math.max(1, buckets.length);
  const totals = buckets.map((b) => b.completed + b.failed + b.cancelled);
  const max = niceMax(Math.max(0, ...totals));
  const y = (v) => pad.top + plotH - (v / max) * plotH;
  const slot = plotW / n;
  const barW = Math.max(2, slot * 0.72);

  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';
  // Grid lines and y labels.
  g.strokeStyle = css('--line');
  g.fillStyle = css('--muted');
  g.lineWidth = 1;
  for (const v of [0, max / 2, max]) {
    const yy = Math.round(y(v)) + 0.5;
    g.beginPath();
    g.moveTo(pad.left, yy);
    g.lineTo(width - pad.right, yy);
    g.stroke();
    g.textAlign = 'right';
    g.fillText(String(Math.round(v * 10) / 10), pad.left - 6, yy);
  }

  // Before counting began (the coordinator's start) nothing is known: shade it rather than show zeros.
  const unknown = buckets.filter((b) => b.start + data.bucketMs <= data.since).length;
  if (unknown > 0) {
    g.fillStyle = css('--card-2');
    g.fillRect(pad.left, pad.top, unknown * slot, plotH);
    if (unknown * slot > 90) {
      g.fillStyle = css('--muted');
      g.textAlign = 'center';
      g.fillText('before start', pad.left + (unknown * slot) / 2, pad.top + plotH / 2);
    }
  }

  const colors = SERIES.map(([, variable]) => css(variable));
  buckets.forEach((b, i) => {
    const x = pad.left + i * slot + (slot - barW) / 2;
    if (i === hover) {
      g.fillStyle = css('--card-2');
      g.fillRect(pad.left + i * slot, pad.top, slot, plotH);
    }
    let base = 0;
    SERIES.forEach(([key], s) => {
      const v = b[key];
      if (!v) return;
      const top = y(base + v);
      g.fillStyle = colors[s];
      g.fillRect(x, top, barW, y(base) - top);
      base += v;
    });
  });

  // X labels: minutes before now.
  g.fillStyle = css('--muted');
  g.textBaseline = 'alphabetic';
  const minutes = (n * data.bucketMs) / 60000;
  const every = minutes > 10 ? 5 : minutes > 4 ? 2 : 1;
  for (let m = 0; m <= minutes; m += every) {
    const x = pad.left + plotW - (m * 60000 / data.bucketMs) * slot;
    g.textAlign = m === 0 ? 'right' : 'center';
    g.fillText(m === 0 ? 'now' : `−${m} min`, Math.max(pad.left + 14, x), height - 6);
  }
}

/** The bucket index under a mouse x position, or -1. */
export function bucketAt(canvas, data, clientX) {
  const rect = canvas.getBoundingClientRect();
  const plotW = rect.width - 34 - 8;
  const i = Math.floor(((clientX - rect.left - 34) / plotW) * (data?.buckets?.length ?? 0));
  return i >= 0 && i < (data?.buckets?.length ?? 0) ? i : -1;
}
