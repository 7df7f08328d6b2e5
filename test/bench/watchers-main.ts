/**
 * The slow-watchers bench's /events clients in a process of their own, so that reading 100 streams does not share the
 * event loop that times the submits. Usage: node watchers-main.js URL READERS STALLED. Prints {"ready":N} once every
 * client is connected, then {"readBytes":N} when its stdin closes, and exits.
 */
import http from 'node:http';
import { stalledSse } from '../helpers/stalled-client.js';

const [url, readers, stalled] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
let readBytes = 0;
const requests: http.ClientRequest[] = [];

/** A watcher that reads and discards everything (node:http, not fetch: a reader should cost the least it can). */
function readForever(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/events`, { agent: false }, (res) => {
      res.on('data', (chunk: Buffer) => (readBytes += chunk.length));
      res.on('error', () => {});
      resolve();
    });
    req.on('error', reject);
    requests.push(req);
  });
}

for (let i = 0; i < readers; i++) await readForever();
const never = Array.from({ length: stalled }, () => stalledSse(url, '/events'));
process.stdout.write(`${JSON.stringify({ ready: readers + stalled })}\n`);

process.stdin.resume();
process.stdin.on('end', () => {
  process.stdout.write(`${JSON.stringify({ readBytes })}\n`);
  for (const req of requests) req.destroy();
  for (const s of never) s.destroy();
  process.exit(0);
});
