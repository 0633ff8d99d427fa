// openai-chunks.ts — assembles streamed OpenAI chat.completion.chunk objects into the text layer's
// OutputEvents, as the local engine's output parser emits them:
//   - reasoning deltas under `reasoning_content` (vLLM/SGLang reasoning parsers) or `reasoning`
//     (newer vLLM, Ollama, OpenRouter), whichever the configuration names ('auto': either);
//   - tool-call deltas keyed by `index`: the first delta of an index carries id and name (some
//     servers send the name only, or the name in pieces), later ones append argument text; a call
//     ends when the stream finishes, and its arguments must then parse as a JSON object;
//   - usage (the chunk with `usage`, often with empty choices), finish_reason;
//   - error objects inside the stream (vLLM and Ollama both send `{"error": ...}` as data).
// Ollama sends a whole call in one delta; vLLM splits it over many: both read the same.
import type { FinishReason, OutputEvent, ToolCall } from '../../common/chat-types.ts';
import type { ReasoningField } from '../../common/providers.ts';
import type { ProviderUsage } from './types.ts';

export interface ChunkAssemblerOptions {
  reasoningField: ReasoningField;
  /** Declared tool names; a call to any other is an error event (as in the local parser). */
  toolNames?: string[];
}

interface OpenCall { id: string | null; name: string; args: string; begun: boolean }

/** The stream said something the app must show as a failure (a server error mid-stream). */
export class StreamErrorChunk extends Error {
  constructor(message: string) { super(message); this.name = 'StreamErrorChunk'; }
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json { return v !== null && typeof v === 'object' && !Array.isArray(v); }
function str(v: unknown): string { return typeof v === 'string' ? v : ''; }
function num(v: unknown): number | null { return typeof v === 'number' && Number.isFinite(v) ? v : null; }

/** The message of an error object a server put in the stream (OpenAI, vLLM and Ollama shapes). */
export function streamError(chunk: Json): string | null {
  const e = chunk.error;
  if (typeof e === 'string') return e;
  if (isObj(e)) return str(e.message) || JSON.stringify(e);
  if (chunk.object === 'error') return str(chunk.message) || 'the server reported an error';
  return null;
}

export function mapFinishReason(r: string): FinishReason | 'content_filter' | null {
  switch (r) {
    case 'stop': case 'eos': case 'end_turn': return 'stop';
    case 'length': case 'max_tokens': return 'length';
    case 'tool_calls': case 'function_call': return 'tool_calls';
    case 'content_filter': return 'content_filter';
    default: return null;
  }
}

export class ChunkAssembler {
  private readonly calls = new Map<number, OpenCall>();
  private readonly known: Set<string> | null;
  private nextIndex = 0;
  /** Maps the server's index to the event index (dense, in order of first appearance). */
  private readonly order = new Map<number, number>();
  finishReason: string | null = null;
  usage: ProviderUsage = { promptTokens: null, completionTokens: null, cachedTokens: null };
  sawUsage = false;
  chunks = 0;

  constructor(private readonly opts: ChunkAssemblerOptions) {
    this.known = opts.toolNames ? new Set(opts.toolNames) : null;
  }

  /** One chunk (parsed JSON) → the events it adds. Throws StreamErrorChunk for an error chunk. */
  push(chunk: unknown): OutputEvent[] {
    if (!isObj(chunk)) return [{ type: 'error', message: 'the stream carried something that is not a JSON object', raw: JSON.stringify(chunk) ?? '' }];
    const err = streamError(chunk);
    if (err !== null) throw new StreamErrorChunk(err);
    this.chunks++;
    const out: OutputEvent[] = [];
    if (isObj(chunk.usage)) this.readUsage(chunk.usage);
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const choice of choices) {
      if (!isObj(choice) || (choice.index !== undefined && choice.index !== 0)) continue;   // n = 1
      const delta = isObj(choice.delta) ? choice.delta : isObj(choice.message) ? choice.message : {};
      const reasoning = this.reasoningOf(delta);
      if (reasoning) out.push({ type: 'reasoning', delta: reasoning });
      const content = str(delta.content);
      if (content) out.push({ type: 'content', delta: content });
      if (Array.isArray(delta.tool_calls)) for (const tc of delta.tool_calls) this.toolDelta(tc, out);
      if (typeof choice.finish_reason === 'string' && choice.finish_reason) this.finishReason = choice.finish_reason;
    }
    return out;
  }

  private reasoningOf(delta: Json): string {
    const f = this.opts.reasoningField;
    if (f === 'reasoning_content') return str(delta.reasoning_content);
    if (f === 'reasoning') return str(delta.reasoning);
    return str(delta.reasoning_content) || str(delta.reasoning);
  }

  private readUsage(u: Json): void {
    this.sawUsage = true;
    const details = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
    this.usage = {
      promptTokens: num(u.prompt_tokens), completionTokens: num(u.completion_tokens),
      cachedTokens: num(details.cached_tokens) ?? num(u.cached_tokens),
    };
  }

  private toolDelta(tc: unknown, out: OutputEvent[]): void {
    if (!isObj(tc)) return;
    // Servers that omit index send one call per delta in order (OpenAI always sends it).
    const serverIndex = num(tc.index) ?? this.calls.size;
    let index = this.order.get(serverIndex);
    if (index === undefined) {
      index = this.nextIndex++;
      this.order.set(serverIndex, index);
      this.calls.set(index, { id: null, name: '', args: '', begun: false });
    }
    const call = this.calls.get(index)!;
    const fn = isObj(tc.function) ? tc.function : {};
    if (typeof tc.id === 'string' && tc.id && !call.id) call.id = tc.id;
    if (typeof fn.name === 'string' && !call.begun) call.name += fn.name;
    const args = str(fn.arguments);
    if (!call.begun && call.name && (args || call.id)) this.begin(index, call, out);
    if (!args) return;
    call.args += args;
    if (call.begun) out.push({ type: 'tool_call_delta', index, delta: args });
  }

  private begin(index: number, call: OpenCall, out: OutputEvent[]): void {
    if (this.known && !this.known.has(call.name)) return;   // reported whole at the end
    call.begun = true;
    call.id ??= `functions.${call.name}:${index}`;
    out.push({ type: 'tool_call_begin', index, id: call.id, name: call.name });
  }

  /** Ends the stream: completes the calls and says why it stopped. */
  finish(): { events: OutputEvent[]; reason: FinishReason; filtered: boolean } {
    const out: OutputEvent[] = [];
    let completed = 0;
    for (const [index, call] of [...this.calls.entries()].sort((a, b) => a[0] - b[0])) {
      if (!call.begun && call.name && (!this.known || this.known.has(call.name))) {
        this.begin(index, call, out);
        if (call.args) out.push({ type: 'tool_call_delta', index, delta: call.args });
      }
      const raw = JSON.stringify({ name: call.name, arguments: call.args });
      let problem: string | null = null;
      if (!call.name) problem = 'tool call without a function name';
      else if (this.known && !this.known.has(call.name)) problem = `call to unknown tool ${JSON.stringify(call.name)}`;
      else {
        try {
          const v: unknown = JSON.parse(call.args || '{}');
          if (!isObj(v)) problem = 'tool call arguments are not a JSON object';
        } catch (e) {
          problem = `tool call arguments are not valid JSON: ${(e as Error).message}`;
        }
      }
      if (problem) {
        out.push(call.begun ? { type: 'error', message: problem, raw, index } : { type: 'error', message: problem, raw });
        continue;
      }
      const done: ToolCall = { id: call.id!, type: 'function', function: { name: call.name, arguments: call.args || '{}' } };
      out.push({ type: 'tool_call_end', index, call: done });
      completed++;
    }
    const mapped = this.finishReason ? mapFinishReason(this.finishReason) : null;
    const filtered = mapped === 'content_filter';
    let reason: FinishReason = mapped === null || mapped === 'content_filter' ? 'stop' : mapped;
    // As the local parser does: a turn that completed a call continues with its results.
    if (completed > 0 && reason === 'stop') reason = 'tool_calls';
    if (completed === 0 && reason === 'tool_calls') reason = 'stop';
    out.push({ type: 'finish', reason });
    return { events: out, reason, filtered };
  }
}
