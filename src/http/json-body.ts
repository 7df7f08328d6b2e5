/**
 * Reads a request body as JSON under a size limit and a nesting bound (the request guard has already required
 * application/json): every route that takes a JSON body reads it here. It reads Node's request stream directly:
 * going through the web Request adds a stream conversion per request.
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { InvalidJson, PayloadTooLarge } from '../errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth.js';

export async function readJson(c: Context, limitBytes: number): Promise<unknown> {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  const text = incoming ? await readLimited(incoming, limitBytes) : await readViaRequest(c, limitBytes);
  if (text.trim() === '') throw new InvalidJson('the request body is empty; send a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidJson(`the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (nestsDeeperThan(text)) throw new InvalidJson(`the request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
  return value;
}

const tooLarge = (limit: number) => new PayloadTooLarge(`the request body is over the ${limit}-byte limit`);

/** Stops reading at the limit; the rest is never buffered (the error handler reads it away before closing). */
function readLimited(incoming: IncomingMessage, limit: number): Promise<string> {
  if (Number(incoming.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        incoming.pause();
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      const body = Buffer.concat(chunks, size);
      // JSON between systems is UTF-8 (RFC 8259 §8.1): other bytes would be stored as U+FFFD without a word.
      if (!isUtf8(body)) reject(new InvalidJson('the request body is not valid UTF-8; JSON must be sent as UTF-8 (RFC 8259 §8.1)'));
      else resolve(body.toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new InvalidJson(`the request body could not be read: ${err.message}`));
    };
    const onAborted = () => onError(new Error('the client went away'));
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
}

/** Outside @hono/node-server (app.request() in tests): the web Request. */
async function readViaRequest(c: Context, limit: number): Promise<string> {
  const text = await c.req.text();
  if (Buffer.byteLength(text) > limit) throw tooLarge(limit);
  return text;
}
