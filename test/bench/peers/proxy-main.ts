/**
 * The floor: a bare pass-through proxy with no queue and no store. Every request is sent as it is to the backend through
 * undici and its answer streamed back. What a sync delegate adds over this is what the queue costs.
 * Prints {"url": "..."} on one line once it listens. Usage: node dist/test/bench/peers/proxy-main.js --backend URL
 * [--connections N] (connections to the backend, default 32: as many as the peers' slots, so none of them waits).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({ options: { backend: { type: 'string' }, connections: { type: 'string', default: '32' } } });
const backend = new Pool(values.backend!, { connections: Number(values.connections) });

const server = createServer((req, res) => {
  const forward = async () => {
    const answer = await backend.request({
      method: req.method as 'POST',
      path: req.url!,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      body: req,
    });
    const type = answer.headers['content-type'];
    res.writeHead(answer.statusCode, typeof type === 'string' ? { 'content-type': type } : {});
    await pipeline(answer.body, res);
  };
  forward().catch((err: Error) => {
    if (!res.headersSent) res.writeHead(502);
    res.end(err.message);
  });
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  void backend.close().then(() => process.exit(0));
});
