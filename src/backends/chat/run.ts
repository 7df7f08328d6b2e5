import { ValidationError } from '../../errors.js';
import type { Backend, GenerateResult } from '../types.js';
import type { ChatRequest } from '../../tasks/chat.js';

/** Runs a task of kind chat on a backend; a backend that is no LLM server (an agent CLI) refuses it for good. */
export function runChat(backend: Backend, req: ChatRequest): Promise<GenerateResult> {
  if (!backend.chat) {
    return Promise.reject(new ValidationError(`backend "${backend.name}" (type ${backend.type}) cannot serve LLM gateway requests`, 'model'));
  }
  return backend.chat(req);
}
