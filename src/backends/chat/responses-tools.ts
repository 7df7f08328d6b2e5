/**
 * The tools of an OpenAI Responses request (platform.openai.com/docs/api-reference/responses/create, `tools`) as chat
 * completion tools, and the names the model calls them by. Chat has only function tools, so:
 * - a `function` tool is the chat function of that name;
 * - a `custom` tool (free text in, e.g. Codex's apply_patch) is a chat function of that name taking one string,
 *   `input`; the model's call of it goes back to the client as a custom_tool_call whose input is that string;
 * - a `namespace` tool's member tools are chat tools named `<namespace>.<member>`, as Ollama names them; calls of
 *   them go back naming their member and namespace apart;
 * - a `web_search` tool is left out: the pool runs no searches (Ollama's server runs them itself; Codex declares one
 *   on every request, so it is not refused).
 * The gateway refuses every other kind before a request becomes a task (RESPONSES_TOOL_TYPES).
 */
import { isRecord } from '../json.js';

type Json = Record<string, unknown>;

/** The kinds of tool a Responses request may declare; the web search ones are accepted and left out. */
export const RESPONSES_TOOL_TYPES = ['function', 'custom', 'namespace', 'web_search', 'web_search_2025_08_26', 'web_search_preview', 'web_search_preview_2025_03_11'] as const;

/** A tool the model may call, as the client declared it. */
export interface DeclaredTool {
  kind: 'function' | 'custom';
  /** Its name within its namespace (or its whole name). */
  name: string;
  namespace?: string;
}

/** The tools' chat form: function tools, in the order declared (a namespace's members in place). */
export function chatTools(tools: unknown): Json[] {
  return declaredTools(tools).map(({ chatName, tool }) => {
    const fn: Json = { name: chatName };
    if (tool.kind === 'custom') {
      if (typeof tool.source.description === 'string') fn.description = tool.source.description;
      fn.parameters = { type: 'object', properties: { input: { type: 'string', description: inputHint(tool.source.format) } }, required: ['input'] };
      return { type: 'function', function: fn };
    }
    fn.parameters = tool.source.parameters ?? { type: 'object', properties: {} };
    if (typeof tool.source.description === 'string') fn.description = tool.source.description;
    if (typeof tool.source.strict === 'boolean') fn.strict = tool.source.strict;
    return { type: 'function', function: fn };
  });
}

/** The declared tools by the name the model calls them (chat's function name). */
export function toolsByChatName(tools: unknown): Map<string, DeclaredTool> {
  return new Map(declaredTools(tools).map(({ chatName, tool: { source: _, ...tool } }) => [chatName, tool]));
}

/** The chat function name of a tool named `name` in `namespace` (none: the name itself). */
export const chatToolName = (name: string, namespace: unknown) => (typeof namespace === 'string' && namespace !== '' ? `${namespace}.${name}` : name);

/** The arguments a custom tool's call carries in chat: its input as the one string parameter. */
export const customToolArguments = (input: string) => JSON.stringify({ input });

/** A custom tool's input from its chat call's arguments: `input` when they are an object holding it, else the text. */
export function customToolInput(args: string): string {
  try {
    const parsed: unknown = JSON.parse(args);
    if (isRecord(parsed) && typeof parsed.input === 'string') return parsed.input;
  } catch {
    // A model that wrote the input bare: it is the input.
  }
  return args;
}

function declaredTools(tools: unknown, namespace?: string): { chatName: string; tool: DeclaredTool & { source: Json } }[] {
  if (!Array.isArray(tools)) return [];
  return tools.filter(isRecord).flatMap((t) => {
    if (typeof t.name !== 'string') return [];
    if (t.type === 'namespace' && namespace === undefined) return declaredTools(t.tools, t.name);
    if (t.type !== 'function' && t.type !== 'custom') return [];
    const tool = { kind: t.type, name: t.name, source: t, ...(namespace === undefined ? {} : { namespace }) } as const;
    return [{ chatName: chatToolName(t.name, namespace), tool }];
  });
}

/** What the `input` parameter of a custom tool holds: free text, or text in the tool's grammar. */
function inputHint(format: unknown): string {
  if (isRecord(format) && format.type === 'grammar' && typeof format.definition === 'string') {
    return `The tool's input, in this ${typeof format.syntax === 'string' ? format.syntax : ''} grammar:\n${format.definition}`;
  }
  return "The tool's input, as free text.";
}
