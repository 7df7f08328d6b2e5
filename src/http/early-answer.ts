/**
 * Answers sent before a request's body was read (413, or any refusal). The client may still be sending: closing the
 * socket at once would reset the connection, and the client would see EPIPE or ECONNRESET instead of the answer.
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';

/** How much of an unwanted body is read and thrown away before the connection is closed regardless. */
const DISCARD_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * `answer` as it should go out for this request. When the body is still arriving, the answer goes out at once (with
 * `Connection: close` and its length), the rest of the body is read and thrown away, up to DISCARD_LIMIT_BYTES and
 * within server.request_timeout_s, and only then does the response end and the connection close. Otherwise (no
 * body, body already received, or no Node socket as in app.request()) `answer` is returned as it is.
 */
export async function answerBeforeBody(c: Context, answer: Response): Promise<Response> {
  const env = c.env as Partial<HttpBindings> | undefined;
  const incoming = env?.incoming;
  // No outgoing: a WebSocket upgrade, answered on the raw socket by @hono/node-ws.
  if (!incoming || !env.outgoing || incoming.complete || !declaresBody((name) => incoming.headers[name] as string | undefined)) return answer;
  const body = new Uint8Array(await answer.arrayBuffer());
  const headers = new Headers(answer.headers);
  headers.set('connection', 'close');
  headers.set('content-length', String(body.byteLength));
  const drained = discardBody(incoming, DISCARD_LIMIT_BYTES);
  const stream = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(body),
    // Asked for more once the answer is written: the response ends (and Node closes the socket) when the body is gone.
    pull: async (controller) => {
      await drained;
      controller.close();
    },
  });
  return new Response(stream, { status: answer.status, headers });
}

/** Whether a request's headers announce a body (chunked, or a Content-Length above 0); `header` reads one by name. */
export function declaresBody(header: (name: string) => string | undefined): boolean {
  const length = header('content-length');
  return header('transfer-encoding') !== undefined || (length !== undefined && length.trim() !== '0');
}

/** Reads and drops the rest of the body; resolves at its end, when the client goes, or past `limit` bytes. */
function discardBody(incoming: IncomingMessage, limit: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const stop = () => {
      incoming.off('data', onData).off('end', stop).off('close', stop).off('error', stop);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) stop();
    };
    incoming.on('data', onData).on('end', stop).on('close', stop).on('error', stop);
    incoming.resume();
  });
}
