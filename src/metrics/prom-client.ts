/**
 * The prom-client values that metrics.ts loads lazily, re-exported by name. prom-client is a CommonJS package: a
 * dynamic import of it directly yields its exports at different places when compiled (Node's interop: named) and when
 * bundled (esbuild's: under `default`), while a static named import works the same in both.
 */
export { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
