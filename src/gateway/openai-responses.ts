/**
 * OpenAI Responses answers (platform.openai.com/docs/api-reference/responses; shapes as in the openai package's
 * resources/responses types). Streaming: SSE events `event: <type>\ndata: <json>\n\n`, each with a `sequence_number`
 * from 0 and no `[DONE]`: response.created, response.in_progress, then per output item response.output_item.added,
 * its deltas (a message: response.content_part.added, response.output_text.delta…, response.output_text.done,
 * response.content_part.done, or for a refusal response.refusal.delta… and response.refusal.done; reasoning: response.reasoning_summary_part.added, response.reasoning_summary_text.delta…,
 * response.reasoning_summary_text.done, response.reasoning_summary_part.done; a function call:
 * response.function_call_arguments.delta…, response.function_call_arguments.done; a custom tool call:
 * response.custom_tool_call_input.delta, response.custom_tool_call_input.done), response.output_item.done, and
 * last response.completed (response.incomplete when the answer hit its token limit) with the whole response and its
 * usage. Not streaming: that whole response object. Items are in the order the answer began them, and each closes
 * before the next begins, as OpenAI streams them. A piece of a call that a server sends after the next item began
 * (none known does) goes into the call's item in the response at the end.
 *
 * The model's reasoning is a reasoning item as Ollama's own /v1/responses writes it (openai/responses.go): the text as
 * its summary and again as its `encrypted_content`, which clients such as Codex send back on later turns unread, and
 * which responses-map.ts then feeds back to the model as that turn's reasoning. A call of a custom tool is a
 * custom_tool_call item whose input is the chat call's one string argument (responses-tools.ts); a call of a
 * namespace's member names the member and its namespace apart.
 */
import type { ChatDelta, ChatEnd } from '../tasks/chat.js';
import { customToolInput, toolsByChatName, type DeclaredTool } from '../backends/chat/responses-tools.js';
import type { Presenter } from './presenter.js';
import type { SessionFailure } from './session.js';

type Json = Record<string, unknown>;

export interface ResponsesMeta {
  /** The response id, resp_<task id>; item ids are derived from it. */
  id: string;
  /** Unix seconds. */
  createdAt: number;
  /** The request body: its model and settings are echoed in the response object. */
  request: Json;
  /** The time now, ms since the epoch (completed_at). */
  now: () => number;
}

interface OpenItem {
  kind: 'message' | 'reasoning' | 'function_call' | 'custom_tool_call';
  outputIndex: number;
  id: string;
  /** The text, the reasoning, or a call's arguments as JSON text. */
  text: string;
  /** A message's one content part: its text, or the model's refusal. */
  part?: 'output_text' | 'refusal';
  /** Tool calls only: the call id and the name the model called (chat's function name). */
  callId?: string;
  name?: string;
}

const outputText = (text: string) => ({ type: 'output_text', annotations: [], logprobs: [], text });
const refusalPart = (refusal: string) => ({ type: 'refusal', refusal });
const contentPart = (part: OpenItem['part'], text: string) => (part === 'refusal' ? refusalPart(text) : outputText(text));
const summaryText = (text: string) => ({ type: 'summary_text', text });

/** Both forms of the answer; `stream` picks whether events are written as they come or only the response at the end. */
export class ResponsesAnswer implements Presenter {
  readonly contentType: string;
  private seq = 0;
  private opened = false;
  /** The message or reasoning item being written, if any. */
  private current: OpenItem | null = null;
  private readonly calls = new Map<number, OpenItem>();
  /** Calls whose item is done (closed when the next item began). */
  private readonly closedCalls = new Set<OpenItem>();
  private readonly output: Json[] = [];
  private items = 0;
  /** The request's tools by the name the model calls them. */
  private readonly tools: Map<string, DeclaredTool>;

  constructor(private readonly meta: ResponsesMeta, private readonly stream: boolean) {
    this.contentType = stream ? 'text/event-stream' : 'application/json';
    this.tools = toolsByChatName(meta.request.tools);
  }

  delta(d: ChatDelta): string {
    let out = this.open();
    if (d.reasoning) out += this.text('reasoning', d.reasoning);
    if (d.content) out += this.text('message', d.content);
    if (d.refusal) out += this.text('refusal', d.refusal);
    for (const piece of d.toolCalls ?? []) {
      let call = this.calls.get(piece.index);
      if (!call) {
        out += this.closeCurrent() + this.closeCalls();
        // Servers name the function in a call's first piece, so its kind is known when its item opens.
        const custom = this.tools.get(piece.name ?? '')?.kind === 'custom';
        const id = `${custom ? 'ctc' : 'fc'}_${this.suffix}_${piece.index}`;
        call = { kind: custom ? 'custom_tool_call' : 'function_call', outputIndex: this.items++, id, text: '', callId: piece.id ?? `call_${this.suffix}_${piece.index}`, name: '' };
        this.calls.set(piece.index, call);
        if (piece.name) call.name = piece.name;
        out += this.event('response.output_item.added', { output_index: call.outputIndex, item: this.item(call, 'in_progress') });
      } else if (piece.name) {
        call.name += piece.name;
      }
      if (piece.id) call.callId = piece.id;
      if (piece.arguments) {
        call.text += piece.arguments;
        // A custom tool's input is the one string inside the arguments' JSON: it is sent whole once the call is.
        if (call.kind === 'function_call' && !this.closedCalls.has(call)) {
          out += this.event('response.function_call_arguments.delta', { item_id: call.id, output_index: call.outputIndex, delta: piece.arguments });
        }
      }
    }
    return this.stream ? out : '';
  }

  finish(end: ChatEnd): string {
    const out = this.open() + this.closeCurrent() + this.closeCalls();
    // A call's late pieces (see above) are in its item all the same.
    for (const call of this.closedCalls) {
      const at = this.output.findIndex((item) => item.id === call.id);
      this.output[at] = { ...this.item(call, 'completed'), outputIndex: call.outputIndex };
    }
    const incomplete = end.finishReason === 'length';
    const prompt = end.usage.promptTokens ?? 0;
    const completion = end.usage.completionTokens ?? 0;
    const response = this.response(incomplete ? 'incomplete' : 'completed', {
      output: [...this.output].sort((a, b) => (a.outputIndex as number) - (b.outputIndex as number)).map(({ outputIndex: _, ...item }) => item),
      usage: {
        input_tokens: prompt,
        input_tokens_details: { cached_tokens: end.usage.cachedTokens ?? 0 },
        output_tokens: completion,
        output_tokens_details: { reasoning_tokens: end.usage.reasoningTokens ?? 0 },
        total_tokens: prompt + completion,
      },
      completed_at: incomplete ? null : Math.floor(this.meta.now() / 1000),
      incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    });
    if (!this.stream) return JSON.stringify(response);
    return out + this.event(incomplete ? 'response.incomplete' : 'response.completed', { response });
  }

  /** Closes the calls still open, in the order they began: their whole arguments (or custom input), then the item. */
  private closeCalls(): string {
    let out = '';
    for (const call of [...this.calls.values()].sort((a, b) => a.outputIndex - b.outputIndex)) {
      if (this.closedCalls.has(call)) continue;
      this.closedCalls.add(call);
      const where = { item_id: call.id, output_index: call.outputIndex };
      if (call.kind === 'function_call') {
        out += this.event('response.function_call_arguments.done', { ...where, name: this.declared(call).name, arguments: call.text });
      } else {
        const input = customToolInput(call.text);
        out += this.event('response.custom_tool_call_input.delta', { ...where, delta: input }) + this.event('response.custom_tool_call_input.done', { ...where, input });
      }
      out += this.closeItem(call);
    }
    return out;
  }

  streamError(failure: SessionFailure): string {
    return this.event('response.failed', { response: this.response('failed', { error: { code: 'server_error', message: failure.message } }) });
  }

  /** What follows "resp_" in the response id: item ids share it. */
  private get suffix(): string {
    return this.meta.id.replace(/^resp_/, '');
  }

  private open(): string {
    if (this.opened) return '';
    this.opened = true;
    const response = this.response('in_progress');
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  /**
   * A piece of text for the current message (its text or refusal part) or reasoning item, opening one (and closing
   * another kind) as needed.
   */
  private text(kind: 'message' | 'refusal' | 'reasoning', delta: string): string {
    let out = '';
    const itemKind = kind === 'reasoning' ? 'reasoning' : 'message';
    const part = kind === 'reasoning' ? undefined : kind === 'refusal' ? 'refusal' : 'output_text';
    if (this.current?.kind !== itemKind || this.current.part !== part) {
      out += this.closeCurrent() + this.closeCalls();
      const prefix = itemKind === 'message' ? 'msg' : 'rs';
      this.current = { kind: itemKind, outputIndex: this.items, id: `${prefix}_${this.suffix}_${this.items}`, text: '', ...(part ? { part } : {}) };
      this.items++;
      const item = this.current;
      out += this.event('response.output_item.added', { output_index: item.outputIndex, item: this.item(item, 'in_progress') });
      out +=
        itemKind === 'message'
          ? this.event('response.content_part.added', { item_id: item.id, output_index: item.outputIndex, content_index: 0, part: contentPart(part, '') })
          : this.event('response.reasoning_summary_part.added', { item_id: item.id, output_index: item.outputIndex, summary_index: 0, part: summaryText('') });
    }
    const item = this.current!;
    item.text += delta;
    const where = { item_id: item.id, output_index: item.outputIndex };
    if (kind === 'message') return out + this.event('response.output_text.delta', { ...where, content_index: 0, delta, logprobs: [] });
    if (kind === 'refusal') return out + this.event('response.refusal.delta', { ...where, content_index: 0, delta });
    return out + this.event('response.reasoning_summary_text.delta', { ...where, summary_index: 0, delta });
  }

  private closeCurrent(): string {
    const item = this.current;
    if (!item) return '';
    this.current = null;
    const where = { item_id: item.id, output_index: item.outputIndex };
    const text = item.text;
    let parts: string;
    if (item.kind === 'reasoning') {
      parts =
        this.event('response.reasoning_summary_text.done', { ...where, summary_index: 0, text }) +
        this.event('response.reasoning_summary_part.done', { ...where, summary_index: 0, part: summaryText(text) });
    } else {
      parts =
        (item.part === 'refusal'
          ? this.event('response.refusal.done', { ...where, content_index: 0, refusal: text })
          : this.event('response.output_text.done', { ...where, content_index: 0, text, logprobs: [] })) +
        this.event('response.content_part.done', { ...where, content_index: 0, part: contentPart(item.part, text) });
    }
    return parts + this.closeItem(item);
  }

  /** What a call's name refers to: the declared tool, or a function of that name when the request declared none. */
  private declared(call: OpenItem): { name: string; namespace?: string } {
    const tool = this.tools.get(call.name ?? '');
    return tool ? { name: tool.name, ...(tool.namespace === undefined ? {} : { namespace: tool.namespace }) } : { name: call.name ?? '' };
  }

  private closeItem(item: OpenItem): string {
    const done = this.item(item, 'completed');
    this.output.push({ ...done, outputIndex: item.outputIndex });
    return this.event('response.output_item.done', { output_index: item.outputIndex, item: done });
  }

  /**
   * An output item in the shape of its kind (ResponseOutputMessage, ResponseReasoningItem, ResponseFunctionToolCall,
   * ResponseCustomToolCall); reasoning without a status, as Ollama writes it, and a custom tool call has none.
   */
  private item(item: OpenItem, status: 'in_progress' | 'completed'): Json {
    const whole = status === 'completed';
    switch (item.kind) {
      case 'message':
        return { id: item.id, type: 'message', status, role: 'assistant', content: whole ? [contentPart(item.part, item.text)] : [] };
      case 'reasoning':
        return whole ? { id: item.id, type: 'reasoning', summary: [summaryText(item.text)], encrypted_content: item.text } : { id: item.id, type: 'reasoning', summary: [] };
      case 'function_call':
        return { id: item.id, type: 'function_call', status, call_id: item.callId, ...this.declared(item), arguments: whole ? item.text : '' };
      case 'custom_tool_call':
        return { id: item.id, type: 'custom_tool_call', call_id: item.callId, ...this.declared(item), input: whole ? customToolInput(item.text) : '' };
    }
  }

  /** One SSE event, numbered; nothing when not streaming. */
  private event(type: string, data: Json): string {
    if (!this.stream) return '';
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...data })}\n\n`;
  }

  /** The Response object, echoing the request's settings. */
  private response(status: string, fields: Json = {}): Json {
    const r = this.meta.request;
    return {
      id: this.meta.id,
      object: 'response',
      created_at: this.meta.createdAt,
      status,
      background: false,
      completed_at: null,
      error: null,
      incomplete_details: null,
      instructions: r.instructions ?? null,
      max_output_tokens: r.max_output_tokens ?? null,
      model: r.model,
      output: [],
      parallel_tool_calls: r.parallel_tool_calls ?? true,
      previous_response_id: null,
      reasoning: r.reasoning ?? null,
      store: false,
      temperature: r.temperature ?? 1,
      text: r.text ?? { format: { type: 'text' } },
      tool_choice: r.tool_choice ?? 'auto',
      tools: r.tools ?? [],
      top_p: r.top_p ?? 1,
      truncation: r.truncation ?? 'disabled',
      usage: null,
      metadata: r.metadata ?? {},
      ...fields,
    };
  }
}
