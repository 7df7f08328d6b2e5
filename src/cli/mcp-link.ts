/**
 * The coordinator `koubou mcp`'s tools talk to, kept current. When the one it forwards to stops answering (its
 * process exited or was killed), the link makes the connection again the way it was made at start (mcp-stdio.ts):
 * that takes the store over when nobody holds it any more, or forwards to whichever coordinator holds it now. The call
 * that met the gone coordinator is then sent again, so no call is lost; a delegation carries one idempotency key
 * across its sends, so it becomes one task however many times it is sent.
 */
import { randomUUID } from 'node:crypto';
import type { KoubouApi } from '../mcp/api.js';
import { isConnectionLost } from '../mcp/http-api.js';

export interface Connection {
  api: KoubouApi;
  /** Where the tools' calls go: the coordinator forwarded to, or the embedded one. */
  url: string;
  /** The calls go to a coordinator in another process, which may go away; false for one embedded in this process. */
  forwarded: boolean;
  close(): Promise<void>;
}

/** How many times one call is sent again after the coordinator it went to was found gone. */
const RESENDS = 2;

export class McpLink {
  private current: Promise<Connection>;
  private latest: Connection | null = null;
  /** The connection being made again and the one it replaces: calls that failed on that one all wait for it. */
  private replacing: { gone: Connection; next: Promise<Connection> } | null = null;
  /** The first connection; rejects when it could not be made (then `koubou mcp` exits with the reason). */
  readonly ready: Promise<Connection>;

  /** `connect` makes a connection, resolving afresh each time; `gone` is the one it replaces (null for the first). */
  constructor(private readonly connect: (gone: Connection | null) => Promise<Connection>) {
    this.ready = connect(null).then((c) => (this.latest = c));
    this.current = this.ready;
  }

  /**
   * Runs `call` on the current connection. When it fails because a forwarded-to coordinator cannot be reached, the
   * connection is made again and the call sent again (at most RESENDS times); any other failure is the call's.
   */
  async run<T>(call: (api: KoubouApi) => Promise<T>): Promise<T> {
    for (let resends = 0; ; resends++) {
      const connection = await this.current;
      try {
        return await call(connection.api);
      } catch (err) {
        if (!connection.forwarded || !isConnectionLost(err) || resends >= RESENDS) throw err;
        await this.replace(connection);
      }
    }
  }

  /** The tools' API over the link: every call goes through run(). */
  api(): KoubouApi {
    return {
      delegate: (args) => {
        // Sent again if its coordinator goes away meanwhile: one key for every send, so it is one task either way.
        const sent = this.mayMove() && !args.idempotency_key ? { ...args, idempotency_key: randomUUID() } : args;
        return this.run((api) => api.delegate(sent));
      },
      getTask: (id, waitSeconds) => this.run((api) => api.getTask(id, waitSeconds)),
      cancel: (id) => this.run((api) => api.cancel(id)),
      list: (status, limit) => this.run((api) => api.list(status, limit)),
      poolStatus: () => this.run((api) => api.poolStatus()),
      // Asked only after a delegate or getTask call has answered, so a connection is there by then.
      onOutput: (id, listener) => this.latest?.api.onOutput?.(id, listener) ?? (() => {}),
    };
  }

  /** Closes the connection in use (an embedded coordinator drains and lets go of the store). */
  async close(): Promise<void> {
    await (await this.current).close();
  }

  /** Whether calls may move to another coordinator: they go to one in another process, or none is known yet. */
  private mayMove(): boolean {
    return this.latest?.forwarded ?? true;
  }

  private replace(gone: Connection): Promise<Connection> {
    if (this.replacing?.gone !== gone) {
      const next = this.connect(gone);
      const entry = { gone, next };
      this.replacing = entry;
      this.current = next.then(
        (c) => (this.latest = c),
        () => {
          // Not made this time: the gone connection stays, so the next call fails on it and tries again.
          if (this.replacing === entry) this.replacing = null;
          return gone;
        },
      );
    }
    return this.replacing!.next;
  }
}
