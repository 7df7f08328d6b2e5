/**
 * Headers every answer carries: not for other sites' <script>/<img> tags either, and never read as anything but the
 * declared type. The request guard adds them to Hono's answers; streams written straight to the Node response
 * (sse-outlet.ts) add them themselves, since middleware cannot touch a response already sent.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
});
