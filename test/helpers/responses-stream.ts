/**
 * The Server-Sent Events a local Ollama sends for a streaming `POST /v1/responses`, event for event and byte for byte:
 * a port of Ollama's ResponsesStreamConverter (openai/responses.go) and of the writers in middleware/openai.go
 * (ResponsesWriter; WebSearchResponsesWriter, which handles every request that declares a `web_search` tool, as
 * `codex exec` always does). Each event is `event: <type>\ndata: <json>\n\n`, the JSON written by Go's encoding/json
 * from maps (sorted keys), with a `sequence_number` counting from 0. The stream has no [DONE]; it ends after
 * `response.completed`.
 *
 * Known quirks reproduced: with a web_search tool declared, a function call that follows reasoning is emitted at the
 * reasoning item's output_index and before the reasoning item is closed; item ids are `resp_<n>`, `msg_<n>`, `rs_<n>`,
 * `fc_<n>_<i>` with random numbers below 999999, call ids `call_` and 8 random lowercase letters or digits.
 */
import { goMarshal, goMarshalOrdered } from './go-json.js';

/** One piece of the model's answer as Ollama's chat handler streams it (api.ChatResponse). */
export interface ChatChunk {
  thinking?: string;
  content?: string;
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
  done?: { promptEvalCount: number; evalCount: number };
}

/** The parts of the request the events echo back. */
interface ResponsesRequest {
  model: string;
  instructions?: string;
  tools?: { type: string; name?: string; description?: string | null; strict?: boolean | null; parameters?: unknown }[];
  reasoning?: { effort?: string; summary?: string };
  truncation?: string | null;
  temperature?: number | null;
  top_p?: number | null;
  max_output_tokens?: number | null;
  background?: boolean;
}

type Json = Record<string, unknown>;

const rand = (n: number) => Math.floor(Math.random() * n);
const callId = () => 'call_' + Array.from({ length: 8 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[rand(36)]).join('');
const outputText = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] });

/** Turns the chat chunks of one answer into the SSE bytes Ollama writes for them, one string per write (flush). */
export function responsesEvents(request: ResponsesRequest, chunks: readonly ChatChunk[]): string[] {
  const c = new Converter(request);
  const writes: string[] = [];
  const write = (events: Json[]) => {
    for (const e of events) writes.push(`event: ${e.type as string}\ndata: ${goMarshal(e)}\n\n`);
  };
  const webSearch = (request.tools ?? []).some((t) => t.type === 'web_search');
  for (const chunk of chunks) {
    if (!webSearch || !chunk.toolCalls?.length) {
      write(c.process(chunk));
      continue;
    }
    // WebSearchResponsesWriter: text of a tool-bearing chunk is streamed first, then the client's tools go out
    // through the path that leaves text open, and the terminal chunk goes through Process with its message cleared.
    if (chunk.content || chunk.thinking) write(c.process({ content: chunk.content, thinking: chunk.thinking }));
    write([...c.process({}), ...c.finishMessageItem(), ...c.functionCallEvents(chunk.toolCalls)]);
    if (chunk.done) write(c.process({ done: chunk.done }));
  }
  return writes;
}

/** Ollama's ResponsesStreamConverter, field for field. */
class Converter {
  private readonly responseId = `resp_${rand(999999)}`;
  private itemId = `msg_${rand(999999)}`;
  private firstWrite = true;
  private outputIndex = 0;
  private contentStarted = false;
  private toolCallsSent = false;
  private text = '';
  private seq = 0;
  private thinking = '';
  private reasoningId = '';
  private reasoningStarted = false;
  private readonly completed: Json[] = [];

  constructor(private readonly request: ResponsesRequest) {}

  private event(type: string, data: Json): Json {
    return { ...data, type, sequence_number: this.seq++ };
  }

  process(r: ChatChunk): Json[] {
    const events: Json[] = [];
    if (this.firstWrite) {
      this.firstWrite = false;
      events.push(this.event('response.created', { response: this.response('in_progress', [], null) }));
      events.push(this.event('response.in_progress', { response: this.response('in_progress', [], null) }));
    }
    if (r.thinking) events.push(...this.processThinking(r.thinking));
    if (r.toolCalls?.length) {
      events.push(...this.finishReasoning(), ...this.functionCallEvents(r.toolCalls));
      this.toolCallsSent = true;
    }
    if (!r.toolCalls?.length && !this.toolCallsSent && r.content) events.push(...this.processText(r.content));
    if (r.done) events.push(...this.completion(r.done));
    return events;
  }

  private processThinking(thinking: string): Json[] {
    const events: Json[] = [];
    if (!this.reasoningStarted) {
      this.reasoningStarted = true;
      this.reasoningId = `rs_${rand(999999)}`;
      events.push(this.event('response.output_item.added', { output_index: this.outputIndex, item: { id: this.reasoningId, type: 'reasoning', summary: [] } }));
    }
    this.thinking += thinking;
    events.push(this.event('response.reasoning_summary_text.delta', { item_id: this.reasoningId, output_index: this.outputIndex, summary_index: 0, delta: thinking }));
    return events;
  }

  private finishReasoning(): Json[] {
    if (!this.reasoningStarted) return [];
    const index = this.outputIndex;
    const item = { id: this.reasoningId, type: 'reasoning', summary: [{ type: 'summary_text', text: this.thinking }], encrypted_content: this.thinking };
    this.completed.push(item);
    const events = [
      this.event('response.reasoning_summary_text.done', { item_id: this.reasoningId, output_index: index, summary_index: 0, text: this.thinking }),
      this.event('response.output_item.done', { output_index: index, item }),
    ];
    this.thinking = '';
    this.reasoningId = '';
    this.reasoningStarted = false;
    this.outputIndex++;
    return events;
  }

  functionCallEvents(calls: NonNullable<ChatChunk['toolCalls']>): Json[] {
    const events: Json[] = [];
    calls.forEach((call, i) => {
      const index = this.outputIndex + i;
      const id = `fc_${rand(999999)}_${i}`;
      const args = goMarshalOrdered(call.arguments);
      const callIdValue = callId();
      const item = { id, type: 'function_call', status: 'completed', call_id: callIdValue, name: call.name, arguments: args };
      this.completed.push(item);
      events.push(
        this.event('response.output_item.added', { output_index: index, item: { ...item, status: 'in_progress', arguments: '' } }),
        this.event('response.function_call_arguments.delta', { item_id: id, output_index: index, delta: args }),
        this.event('response.function_call_arguments.done', { item_id: id, output_index: index, arguments: args }),
        this.event('response.output_item.done', { output_index: index, item }),
      );
    });
    this.outputIndex += calls.length;
    return events;
  }

  finishMessageItem(): Json[] {
    if (!this.contentStarted) return [];
    this.contentStarted = false;
    const text = this.text;
    const id = this.itemId;
    const index = this.outputIndex;
    const item = { id, type: 'message', status: 'completed', role: 'assistant', content: [outputText(text)] };
    this.completed.push(item);
    this.text = '';
    this.outputIndex++;
    this.itemId = `msg_${this.responseId.slice('resp_'.length)}_${this.outputIndex}`;
    return [
      this.event('response.output_text.done', { item_id: id, output_index: index, content_index: 0, text, logprobs: [] }),
      this.event('response.content_part.done', { item_id: id, output_index: index, content_index: 0, part: outputText(text) }),
      this.event('response.output_item.done', { output_index: index, item }),
    ];
  }

  private processText(content: string): Json[] {
    const events = this.finishReasoning();
    if (!this.contentStarted) {
      this.contentStarted = true;
      events.push(this.event('response.output_item.added', { output_index: this.outputIndex, item: { id: this.itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] } }));
      events.push(this.event('response.content_part.added', { item_id: this.itemId, output_index: this.outputIndex, content_index: 0, part: outputText('') }));
    }
    this.text += content;
    events.push(this.event('response.output_text.delta', { item_id: this.itemId, output_index: this.outputIndex, content_index: 0, delta: content, logprobs: [] }));
    return events;
  }

  private completion(done: NonNullable<ChatChunk['done']>): Json[] {
    const events = this.finishReasoning();
    const message = { id: this.itemId, type: 'message', status: 'completed', role: 'assistant', content: [outputText(this.text)] };
    if (!this.toolCallsSent && this.contentStarted) {
      events.push(
        this.event('response.output_text.done', { item_id: this.itemId, output_index: this.outputIndex, content_index: 0, text: this.text, logprobs: [] }),
        this.event('response.content_part.done', { item_id: this.itemId, output_index: this.outputIndex, content_index: 0, part: outputText(this.text) }),
        this.event('response.output_item.done', { output_index: this.outputIndex, item: message }),
      );
    }
    const usage = {
      input_tokens: done.promptEvalCount,
      output_tokens: done.evalCount,
      total_tokens: done.promptEvalCount + done.evalCount,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    };
    const output = [...this.completed, ...(this.contentStarted ? [message] : [])];
    const response = { ...this.response('completed', output, usage), completed_at: Math.floor(Date.now() / 1000) };
    events.push(this.event('response.completed', { response }));
    return events;
  }

  /** buildResponseObject: the whole response, echoing the request's settings. */
  private response(status: string, output: unknown[], usage: Json | null): Json {
    const r = this.request;
    const reasoning = r.reasoning?.effort || r.reasoning?.summary ? { effort: r.reasoning.effort || null, summary: r.reasoning.summary || null } : null;
    return {
      id: this.responseId,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      completed_at: null,
      status,
      incomplete_details: null,
      model: r.model,
      previous_response_id: null,
      instructions: r.instructions || null,
      output,
      error: null,
      tools: (r.tools ?? []).map((t) => ({ type: t.type, name: t.name ?? '', description: t.description ?? null, strict: t.strict ?? null, parameters: t.parameters ?? null })),
      tool_choice: 'auto',
      truncation: r.truncation ?? 'disabled',
      parallel_tool_calls: true,
      text: { format: { type: 'text' } },
      top_p: r.top_p ?? 1,
      presence_penalty: 0,
      frequency_penalty: 0,
      top_logprobs: 0,
      temperature: r.temperature ?? 1,
      reasoning,
      usage,
      max_output_tokens: r.max_output_tokens ?? null,
      max_tool_calls: null,
      store: false,
      background: r.background ?? false,
      service_tier: 'default',
      metadata: {},
      safety_identifier: null,
      prompt_cache_key: null,
    };
  }
}
