// message-recorder.ts — turns the ids of one generation into a stored message and contract
// events: each id goes through the output parser, its reasoning / content / tool-call pieces are
// written in one transaction (StreamWriter), and only then published. Also keeps the clocks and
// counters behind the timings and the reasoning panel (elapsed time, token count). A remote
// provider hands over events already parsed (pushEvents); the local engine hands over ids.
import type { FinishReason, OutputEvent } from '../../common/chat-types.ts';
import type { GenerationEvent, TimingFigure, Timings, ToolCallRecord } from '../../common/contract.ts';
import type { GenerateResult } from '../engine/types.ts';
import type { StreamWriter } from '../store/stream-writer.ts';

/** Minimum interval between live 'stats' events. */
const STATS_INTERVAL_MS = 250;

interface Parser { push(id: number): OutputEvent[]; finish(reason: FinishReason): OutputEvent[] }

export class MessageRecorder {
  private readonly t0 = performance.now();
  private tFirst = 0;
  private prefilled = 0;
  private lastStats = 0;
  private completion = 0;
  private reasoningState: 'none' | 'open' | 'closed' = 'none';
  private reasoningTokens = 0;
  private reasoningMs = 0;
  private pending: GenerationEvent[] = [];
  private finishSeen: FinishReason | null = null;
  private notes: string[] = [];
  /** A remote's cached prompt tokens (null: it did not say); the local engine's come in the result. */
  private remoteCached: number | null = null;
  private notReported: TimingFigure[] = [];
  readonly parseErrors: string[] = [];

  constructor(
    private readonly writer: StreamWriter,
    /** The local engine's output parser over ids; null when events arrive parsed (a remote). */
    private readonly parser: Parser | null,
    private readonly ids: { conversationId: string; messageId: string },
    private promptTokens: number,
    private readonly contextLength: number,
    private readonly emit: (e: GenerationEvent) => void,
  ) {
    emit({ type: 'prompt_progress', ...ids, done: 0, total: promptTokens });
  }

  /** Prompt processing progress from the engine (after each prefill chunk), passed on as it
   *  comes; it only advances. */
  prefillProgress(done: number, total: number): void {
    if (done <= this.prefilled) return;
    this.prefilled = done;
    this.emit({ type: 'prompt_progress', ...this.ids, done, total });
  }

  /** Ids from the engine: each is parsed, committed, then published. */
  pushTokens(ids: number[]): void {
    const parser = this.parser;
    if (!parser) throw new Error('pushTokens needs an output parser');
    for (const id of ids) this.record(parser.push(id), 1);
    this.maybeStats();
  }

  /** Events a provider parsed itself, standing for `tokens` generated tokens. */
  pushEvents(events: OutputEvent[], tokens: number): void {
    this.record(events, tokens);
    this.maybeStats();
  }

  private record(events: OutputEvent[], tokens: number): void {
    if (!this.tFirst && (tokens > 0 || events.length)) {
      this.tFirst = performance.now();
      this.prefillProgress(this.promptTokens, this.promptTokens);  // the prompt is done once a token exists
    }
    this.completion += tokens;
    if (this.reasoningState !== 'closed') this.reasoningTokens += tokens;
    // One token's output is one transaction: a kill loses at most the token in flight, and
    // what a client has seen is always on disk.
    this.writer.batch(() => this.apply(events));
    this.flush();
  }

  private maybeStats(): void {
    const now = performance.now();
    if (now - this.lastStats >= STATS_INTERVAL_MS && this.tFirst) {
      this.lastStats = now;
      const decodeS = (now - this.tFirst) / 1000;
      this.emit({
        type: 'stats', ...this.ids, completionTokens: this.completion,
        tokensPerSecond: decodeS > 0 ? (this.completion - 1) / decodeS : 0,
        contextUsed: this.promptTokens + this.completion, contextLength: this.contextLength,
      });
    }
  }

  /** Ends the parse; returns the reason it gives (stop becomes tool_calls after a call). */
  finishParse(engineReason: FinishReason): FinishReason {
    if (!this.parser) {
      this.endReasoning();
      this.flush();
      return engineReason === 'cancelled' || engineReason === 'error' ? engineReason : this.finishSeen ?? engineReason;
    }
    const tail = this.parser.finish(engineReason);
    this.writer.batch(() => this.apply(tail));
    this.endReasoning();
    this.flush();
    const fin = tail.find((ev) => ev.type === 'finish');
    return fin?.type === 'finish' ? fin.reason : engineReason;
  }

  /** A remote's reported usage replaces the counts kept here; its notes travel with the timings. */
  useProviderFigures(usage: { promptTokens: number | null; completionTokens: number | null; cachedTokens: number | null }, notes: string[]): void {
    if (usage.promptTokens !== null) this.promptTokens = usage.promptTokens;
    if (usage.completionTokens !== null) this.completion = usage.completionTokens;
    this.remoteCached = usage.cachedTokens;
    // What stays unreported is shown as such, never as a measured 0.
    this.notReported = (['prompt', 'cached', 'completion'] as const).filter((f) =>
      (f === 'prompt' ? usage.promptTokens : f === 'cached' ? usage.cachedTokens : usage.completionTokens) === null);
    this.notes = notes;
  }

  timings(result: GenerateResult | null): Timings {
    const now = performance.now();
    const ttft = this.tFirst ? this.tFirst - this.t0 : now - this.t0;
    const promptMs = result?.prefillMs ?? ttft;
    const decodeMs = result?.decodeMs ?? (this.tFirst ? now - this.tFirst : 0);
    return {
      promptTokens: this.promptTokens, cachedTokens: result?.cachedTokens ?? this.remoteCached ?? 0, completionTokens: this.completion, promptMs, ttftMs: ttft, decodeMs,
      promptTokensPerSecond: promptMs > 0 ? (this.promptTokens / promptMs) * 1000 : 0,
      tokensPerSecond: decodeMs > 0 && this.completion > 1 ? ((this.completion - 1) / decodeMs) * 1000 : 0,
      contextUsed: this.promptTokens + this.completion, contextLength: this.contextLength,
      ...(this.notes.length ? { notes: this.notes } : {}),
      ...(this.notReported.length ? { notReported: this.notReported } : {}),
    };
  }

  /** Reasoning time and tokens for the stored message (none when the model did not think). */
  reasoningPatch(): { reasoningMs?: number; reasoningTokens?: number } {
    return this.reasoningState === 'none' ? {} : { reasoningMs: this.reasoningMs, reasoningTokens: this.reasoningTokens };
  }

  private flush(): void {
    const evs = this.pending;
    this.pending = [];
    for (const e of evs) this.emit(e);
  }

  private endReasoning(): void {
    if (this.reasoningState !== 'open') return;
    this.reasoningState = 'closed';
    this.reasoningMs = performance.now() - (this.tFirst || this.t0);
    this.pending.push({ type: 'reasoning_end', ...this.ids, reasoningMs: this.reasoningMs, reasoningTokens: this.reasoningTokens });
  }

  private apply(events: OutputEvent[]): void {
    const w = this.writer;
    const out = this.pending;
    const base = this.ids;
    for (const ev of events) {
      // Anything but more reasoning closes the reasoning panel.
      if (ev.type !== 'reasoning' && ev.type !== 'finish') this.endReasoning();
      switch (ev.type) {
        case 'reasoning':
          if (this.reasoningState === 'none') this.reasoningState = 'open';
          w.appendReasoning(ev.delta);
          out.push({ type: 'reasoning', ...base, delta: ev.delta });
          break;
        case 'content':
          w.appendContent(ev.delta);
          out.push({ type: 'content', ...base, delta: ev.delta });
          break;
        case 'tool_call_begin':
          w.setToolCall(ev.index, { id: ev.id, name: ev.name, arguments: '', status: 'streaming', result: null, error: null, durationMs: null });
          out.push({ type: 'tool_call_begin', ...base, index: ev.index, id: ev.id, name: ev.name });
          break;
        case 'tool_call_delta':
          w.appendToolArguments(ev.index, ev.delta);
          out.push({ type: 'tool_call_delta', ...base, index: ev.index, delta: ev.delta });
          break;
        case 'tool_call_end': {
          const call: ToolCallRecord = { id: ev.call.id, name: ev.call.function.name, arguments: ev.call.function.arguments, status: 'pending', result: null, error: null, durationMs: null };
          w.setToolCall(ev.index, call);
          out.push({ type: 'tool_call_end', ...base, index: ev.index, call });
          break;
        }
        case 'error': {
          this.parseErrors.push(ev.message);
          if (ev.index !== undefined && w.toolCalls[ev.index]) {
            const call: ToolCallRecord = { ...w.toolCalls[ev.index], status: 'error', error: ev.message };
            w.setToolCall(ev.index, call);
            out.push({ type: 'tool_status', ...base, call });
          }
          out.push({ type: 'error', ...base, message: ev.message, raw: ev.raw });
          break;
        }
        case 'finish': this.finishSeen = ev.reason; break;   // the caller reads it from finishParse
      }
    }
  }
}
