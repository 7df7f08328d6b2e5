/**
 * Modules an idle coordinator does not need (GraphQL, the MCP SDK, prom-client, the NATS client) are loaded on first
 * use, so a process that only serves the REST API stays small and starts fast.
 */

/**
 * Wraps a dynamic import: the first call starts it, every call gets the same promise. A failed load is not kept, so a
 * later call tries again.
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | null = null;
  return () => {
    loading ??= load().catch((err: unknown) => {
      loading = null;
      throw err;
    });
    return loading;
  };
}
