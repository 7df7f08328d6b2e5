// Numbers, times and ids as people read them.

const nf = new Intl.NumberFormat();
export const count = (n) => nf.format(n ?? 0);

/** 850 ms, 4.2 s, 3 m 05 s, 2 h 10 m */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

/** "12 s ago" from an ISO time; `now` is the server's clock as the page estimates it. */
export function ago(iso, now) {
  if (!iso) return '—';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** 14:03:07 */
export function clock(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** 14:03:07.125 */
export function preciseClock(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${clock(iso)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** 42, 4.2, 0.42 — a rate with sensible precision. */
export function rate(n) {
  if (n === null || n === undefined) return '—';
  if (n >= 100) return nf.format(Math.round(n));
  if (n >= 10) return n.toFixed(0);
  return n.toFixed(1);
}
