/** What a preset's parser makes of a CLI's stdout: chunks to stream while it runs, then the answer and its usage. */
export interface AgentAnswer {
  /** The agent's final message (not the JSON lines it arrived in). */
  output: string;
  promptTokens?: number | undefined;
  completionTokens?: number | undefined;
  /** What the CLI itself reported as the reason it failed (turn.failed, an error event), if it did. */
  failure?: string | undefined;
}

/** Fed each stdout line in order; tolerates lines that are not JSON and event types it does not know. */
export interface AgentOutputParser {
  line(line: string): void;
  answer(): AgentAnswer;
}

/** Parses one JSON object per line; null for anything else (a banner, a warning, junk). */
export function jsonObject(line: string): Record<string, unknown> | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export const asRecord = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
export const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const asCount = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);

/** Plain text (generic, aider): every line is part of the answer and streams as it arrives. */
export function plainTextParser(onChunk: (text: string) => void): AgentOutputParser {
  const lines: string[] = [];
  return {
    line(line) {
      lines.push(line);
      onChunk(line + '\n');
    },
    answer: () => ({ output: lines.join('\n') }),
  };
}
