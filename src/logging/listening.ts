/** The line a starting coordinator logs with its URL, found in log text whatever the order of its fields. */
export const LISTENING_MSG = 'koubou is listening';

/** The URL of the first "koubou is listening" JSON line in text, or null. */
export function listeningUrl(text: string): string | null {
  for (const line of text.split('\n')) {
    if (!line.includes(LISTENING_MSG)) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === LISTENING_MSG && entry.url) return entry.url;
    } catch {
      // A partial line: the rest is still being written.
    }
  }
  return null;
}
