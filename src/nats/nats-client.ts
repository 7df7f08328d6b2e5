/**
 * The nats client's values that connection.ts loads lazily, re-exported by name. `nats` is a CommonJS package: a
 * dynamic import of it directly yields its exports at different places when compiled (Node's interop: named) and when
 * bundled (esbuild's: under `default`), while a static named import works the same in both.
 */
export { connect, credsAuthenticator, nkeyAuthenticator } from 'nats';
