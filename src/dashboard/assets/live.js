// Live connections that come back by themselves: Server-Sent Events and the WebSocket.

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 15000;

/**
 * Listens to an SSE stream. `url` is a function so a reconnect picks up a new token; `handlers` maps event names to
 * functions of the parsed data; `onState('live' | 'connecting')` tells whether it is up. The browser reconnects
 * after a network error by itself; after an HTTP error it gives up, so we retry with a backoff.
 */
export function listen(url, handlers, onState = () => {}) {
  let source = null;
  let closed = false;
  let timer = null;
  let retryMs = FIRST_RETRY_MS;
  const connect = () => {
    source = new EventSource(url());
    source.onopen = () => {
      retryMs = FIRST_RETRY_MS;
      onState('live');
    };
    source.onerror = () => {
      if (closed) return;
      onState('connecting');
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        timer = setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      }
    };
    for (const [name, handle] of Object.entries(handlers)) {
      source.addEventListener(name, (message) => handle(JSON.parse(message.data)));
    }
  };
  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
    },
  };
}

/** A WebSocket that reconnects with a backoff; `onOpen(send)` runs on every (re)connect, e.g. to subscribe. */
export function socket(url, { onOpen, onMessage }, onState = () => {}) {
  let ws = null;
  let closed = false;
  let timer = null;
  let retryMs = FIRST_RETRY_MS;
  const connect = () => {
    ws = new WebSocket(url());
    ws.onopen = () => {
      retryMs = FIRST_RETRY_MS;
      onState('live');
      onOpen((message) => ws.send(JSON.stringify(message)));
    };
    ws.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      onMessage(message);
    };
    ws.onclose = () => {
      if (closed) return;
      onState('connecting');
      timer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    };
  };
  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      ws?.close();
    },
  };
}

/** Runs fn at once, then at most once per `ms` while calls keep coming (the last call always gets its run). */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      fn();
    }, wait);
  };
}
