/** Turns a task into what the LLM sees: a system prompt for its type, and the prompt with its files attached. */
import type { Task, TaskType } from './task.js';

const SYSTEM_PROMPTS: Record<TaskType, string> = {
  general: 'You are a careful assistant. Answer the request precisely and concisely.',
  code: 'You are an expert software engineer. Answer with working code and only the explanation it needs.',
  code_generation: 'You are an expert software engineer. Write complete, working code for the request. Prefer clarity over cleverness.',
  documentation: 'You are a technical writer. Write clear, accurate documentation for the given material.',
  translation: 'You are a professional translator. Translate faithfully, keeping meaning, tone and formatting.',
  analysis: 'You are a meticulous analyst. Examine the material and report findings with evidence.',
  refactoring: 'You are an expert software engineer. Refactor the given code without changing its behaviour, and say what changed.',
};

/** The request for the backend: system prompt by type, user prompt followed by each attached file. */
export function buildPrompt(task: Pick<Task, 'type' | 'prompt' | 'files'>): { system: string; prompt: string } {
  const attachments = task.files.map((f) => `\n\n--- ${f.path} ---\n${f.content}`).join('');
  return { system: SYSTEM_PROMPTS[task.type], prompt: task.prompt + attachments };
}
