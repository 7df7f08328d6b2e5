/** Reading a streamed chat completion through the official `openai` client, as an application would. */
import type OpenAI from 'openai';

/**
 * Streams one user message to `model` and reads the answer to its end: the text of every delta, and the last
 * finish_reason the stream gave (null when none). Throws what the client throws (a stream ended by an error).
 */
export async function streamedText(openai: OpenAI, model: string, content: string): Promise<{ text: string; finish: string | null }> {
  const stream = await openai.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content }] });
  let text = '';
  let finish: string | null = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  return { text, finish };
}
