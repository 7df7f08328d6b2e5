/** Reads a request body as JSON whatever its content type (curl -d sends form encoding by default). */
import type { Context } from 'hono';
import { InvalidJson } from '../errors.js';

export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') throw new InvalidJson('the request body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidJson(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}
