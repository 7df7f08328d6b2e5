/** What the fake LLM server's protocol files share: a generation in neutral terms, a rendered answer, plain replies. */
import type http from 'node:http';

export type Protocol = 'ollama-chat' | 'ollama-generate' | 'openai';

/** What a generation request asked for, in protocol-neutral terms. */
export interface Generation {
  protocol: Protocol;
  model: string;
  prompt: string;
  stream: boolean;
  includeUsage: boolean;
  /** OpenAI's legacy /v1/completions: text_completion objects with choices[].text instead of chat chunks. */
  textCompletion?: boolean;
}

/** A generation request, read and validated: what it asks for, and what the server records of it. */
export interface ParsedGeneration {
  generation: Generation;
  model: string;
  prompt: string;
  system: string | undefined;
}

/** A rendered answer: streamed pieces (content, then closing ones) or a single body. */
export interface Rendered {
  status: number;
  contentType: string;
  contentPieces: string[];
  closingPieces: string[];
}

/** The deterministic answer both protocols give: `echo(<model>): <prompt>`, cut into words, with token counts. */
export function echoAnswer(model: string, prompt: string): { answer: string; words: string[]; promptTokens: number; completionTokens: number } {
  const answer = `echo(${model}): ${prompt}`;
  const words = answer.split(/(?<=\s)/);
  return { answer, words, promptTokens: Math.max(1, Math.ceil(prompt.length / 4)), completionTokens: words.length };
}

export const JSON_TYPE = 'application/json; charset=utf-8';

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': JSON_TYPE });
  res.end(JSON.stringify(body));
}

export function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
