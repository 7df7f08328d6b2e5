/** The request guard's Host rules for other bind addresses, in process (app.request): IPv6, wildcard, a host name. */
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { errorHandler } from '../../src/http/errors.js';
import { guardRequests, type GuardPolicy } from '../../src/http/request-guard.js';
import { silentLogger } from '../../src/logger.js';

function app(policy: Partial<GuardPolicy>) {
  const app = new Hono();
  app.onError(errorHandler(silentLogger));
  app.use('*', guardRequests({ bindHost: '127.0.0.1', allowedHosts: [], allowedOrigins: [], ...policy }));
  app.get('/', (c) => c.json({ ok: true }));
  return async (host: string) => (await app.request('/', { headers: { host } })).status;
}

describe('request guard: Host by bind address', () => {
  it('accepts an IPv6 bind address in brackets', async () => {
    const status = app({ bindHost: '::1' });
    assert.equal(await status('[::1]:8765'), 200);
    assert.equal(await status('[::2]:8765'), 403);
  });

  it('accepts the configured host name, and only it', async () => {
    const status = app({ bindHost: 'Workshop.lan' });
    assert.equal(await status('workshop.lan:8765'), 200);
    assert.equal(await status('other.lan:8765'), 403);
  });

  it('bound to every interface, accepts this machine addresses and no name', async () => {
    const status = app({ bindHost: '0.0.0.0' });
    const own = Object.values(networkInterfaces()).flat().filter((i) => i && i.family === 'IPv4').map((i) => i!.address);
    for (const address of own) assert.equal(await status(`${address}:8765`), 200, address);
    assert.equal(await status('203.0.113.7:8765'), 403, 'an address of no interface here');
    assert.equal(await status('evil.example:8765'), 403);
  });

  it('refuses malformed Host headers', async () => {
    const status = app({});
    for (const host of ['evil.example@127.0.0.1', '127.0.0.1/evil', '127.0.0.1 evil', '127.0.0.1:80:80', '']) {
      assert.equal(await status(host), 403, JSON.stringify(host));
    }
  });
});
