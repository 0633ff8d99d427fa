// generation.ts — the office server's thin generation service: one API request → one engine
// generation. It renders the chat with the model's own template (main/text via the model's
// ModelText), checks the prompt against the context window before anything runs (an over-long
// prompt is a 400 naming the limit, never a silent cut), streams the engine's ids through the
// text layer's output parser (reasoning, content, tool calls), applies stop strings to the answer
// text and reports usage, including prompt tokens served from the engine's prefix cache.
import type { ChatMessage, FinishReason, OutputEvent, ToolSpec } from '../../common/chat-types.ts';
import type { GenerateResult, SamplingOptions } from '../engine/types.ts';
import type { LoadedModel, ModelService } from '../services/model-service.ts';
import { collectEvents, emptyOutput, type CollectedOutput } from '../text/index.ts';
import { ApiError } from './http/api-error.ts';
import { StopFilter } from './stop-filter.ts';

/** Completion budget when neither the request nor the model's generation_config says. */
export const DEFAULT_MAX_TOKENS = 4096;
/** At most this many stop strings per request (OpenAI allows 4; Anthropic more). */
export const MAX_STOP_STRINGS = 16;

export type GenEvent = Exclude<OutputEvent, { type: 'finish' }>;

export interface EngineSampling { temperature?: number; topP?: number; topK?: number; seed?: number; presencePenalty?: number; frequencyPenalty?: number }

export interface GenInput {
  /** A chat rendered with the template, or raw prompt text (legacy completions). */
  chat?: { messages: ChatMessage[]; tools: ToolSpec[] | null };
  raw?: { prompt: string };
  sampling: EngineSampling;
  /** Requested completion budget; null: as much as the model's default and the window allow. */
  maxTokens: number | null;
  stop: string[];
  /** Thinking (true) or instant (false) for templates with the switch (K2.5 / K2.6); undefined: the model's default. */
  thinking?: boolean;
}

export interface Prepared {
  model: LoadedModel;
  promptIds: number[];
  /** The template prefilled <think> (K2.5-style thinking): the output starts inside reasoning. */
  startsInReasoning: boolean;
  maxTokens: number;
  toolNames: string[];
  raw: boolean;
  stop: string[];
  sampling: EngineSampling;
}

export interface GenResult {
  finishReason: Exclude<FinishReason, 'error'>;
  /** The stop string that ended the answer, if one did. */
  stopSequence: string | null;
  output: CollectedOutput;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** performance.now() when the first generated token arrived; null if none did. */
  firstTokenAt: number | null;
}

export class ServerGeneration {
  constructor(private readonly models: ModelService) {}

  /** The loaded model's id as the APIs name it. */
  modelId(): string | null { return this.models.loaded?.name ?? null; }

  /** The loaded model when `name` names it (or is absent); 404 for another, 503 while loading. */
  resolveModel(name: string | undefined): LoadedModel {
    const m = this.models.loaded;
    if (!m) {
      const st = this.models.status();
      if (st.state === 'loading' || st.state === 'restarting') {
        throw new ApiError('unavailable', `the model is ${st.state}; try again shortly`, { retryAfterS: 5 });
      }
      throw new ApiError('unavailable', `no model is loaded (engine ${st.state}${st.error ? `: ${st.error}` : ''})`, { retryAfterS: 30 });
    }
    if (name !== undefined && name !== m.name) {
      throw new ApiError('not_found', `The model '${name}' does not exist on this server; it serves '${m.name}' (see GET /v1/models)`, { param: 'model', code: 'model_not_found' });
    }
    return m;
  }

  contextLength(): number { return this.models.contextLength(); }

  /** Generations the engine process is still running (/metrics: a cancel that did not free its sequence stays here). */
  engineInFlight(): number { return this.models.engine.inFlight(); }

  /** Prompt ids of a chat (count_tokens). */
  encodeChat(model: LoadedModel, messages: ChatMessage[], tools: ToolSpec[] | null, thinking?: boolean): { promptIds: number[]; startsInReasoning: boolean } {
    try {
      const e = model.text.encode(messages, tools, { thinking });
      return { promptIds: e.promptIds, startsInReasoning: e.startsInReasoning };
    } catch (e) {
      throw new ApiError('invalid_request', `could not render the prompt with the model's chat template: ${(e as Error).message}`);
    }
  }

  prepare(model: LoadedModel, input: GenInput): Prepared {
    if (input.stop.length > MAX_STOP_STRINGS) throw new ApiError('invalid_request', `at most ${MAX_STOP_STRINGS} stop strings`, { param: 'stop' });
    const enc = input.raw
      ? { promptIds: model.text.tokenize(input.raw.prompt, true), startsInReasoning: false }
      : this.encodeChat(model, input.chat!.messages, input.chat!.tools, input.thinking);
    const promptIds = enc.promptIds;
    const ctx = this.contextLength();
    if (promptIds.length >= ctx) {
      throw new ApiError('invalid_request',
        `This model's maximum context length is ${ctx} tokens, but the prompt has ${promptIds.length} tokens. Shorten the prompt; it is never truncated.`,
        { param: 'messages', code: 'context_length_exceeded' });
    }
    const room = ctx - promptIds.length;
    if (input.maxTokens !== null && input.maxTokens > room) {
      throw new ApiError('invalid_request',
        `This model's maximum context length is ${ctx} tokens: the prompt has ${promptIds.length} tokens and ${input.maxTokens} were asked for the completion (at most ${room} fit).`,
        { param: 'max_tokens', code: 'context_length_exceeded' });
    }
    const maxTokens = input.maxTokens ?? Math.min(model.text.defaults.maxTokens ?? DEFAULT_MAX_TOKENS, room);
    const toolNames = (input.chat?.tools ?? []).map((t) => t.function.name);
    return { model, promptIds, startsInReasoning: enc.startsInReasoning, maxTokens, toolNames, raw: !!input.raw, stop: input.stop, sampling: input.sampling };
  }

  /** Runs a prepared request; events stream to onEvent. Cancels with `signal`. Rejects only for engine failures. */
  async run(p: Prepared, signal: AbortSignal, onEvent: (e: GenEvent) => void): Promise<GenResult> {
    const stopper = new StopFilter(p.stop);
    const local = new AbortController();
    const onAbort = () => local.abort();
    if (signal.aborted) local.abort(); else signal.addEventListener('abort', onAbort, { once: true });
    const output = emptyOutput();
    let firstTokenAt: number | null = null;
    const defaults = p.model.text.defaults;

    const deliver = (events: OutputEvent[]) => {
      for (const e of events) {
        if (stopper.matched !== null || e.type === 'finish') continue;
        if (e.type === 'content') {
          const shown = stopper.push(e.delta);
          if (shown) { const ev: GenEvent = { type: 'content', delta: shown }; collectEvents([ev], output); onEvent(ev); }
          if (stopper.matched !== null) local.abort();
          continue;
        }
        collectEvents([e], output);
        onEvent(e);
      }
    };

    let push: (id: number) => void;
    let finishParse: (reason: FinishReason) => FinishReason;
    if (p.raw) {
      const dec = p.model.text.rawDecoder();
      const stopIds = new Set(defaults.stopIds);
      let ended = false;
      push = (id) => {
        if (ended) return;
        if (stopIds.has(id)) { ended = true; deliver([{ type: 'content', delta: dec.flush() }]); return; }
        deliver([{ type: 'content', delta: dec.push(id) }]);
      };
      finishParse = (reason) => { if (!ended) deliver([{ type: 'content', delta: dec.flush() }]); return reason; };
    } else {
      const parser = p.model.text.parser(p.toolNames, { startInReasoning: p.startsInReasoning });
      push = (id) => deliver(parser.push(id));
      finishParse = (reason) => {
        const evs = parser.finish(reason);
        deliver(evs);
        const fin = evs.find((e) => e.type === 'finish');
        return fin && fin.type === 'finish' ? fin.reason : reason;
      };
    }

    const engineOptions: SamplingOptions = {
      temperature: p.sampling.temperature ?? defaults.temperature, topP: p.sampling.topP ?? defaults.topP,
      topK: p.sampling.topK ?? defaults.topK, seed: p.sampling.seed,
      presencePenalty: p.sampling.presencePenalty, frequencyPenalty: p.sampling.frequencyPenalty,
      maxTokens: p.maxTokens, stopIds: defaults.stopIds,
    };
    let result: GenerateResult;
    try {
      result = await this.models.engine.generate(p.promptIds, engineOptions, (ids) => {
        if (firstTokenAt === null) firstTokenAt = performance.now();
        for (const id of ids) push(id);
      }, local.signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    let reason: FinishReason = stopper.matched !== null ? 'stop' : result.finishReason;
    reason = finishParse(reason);   // the parser's held tail still passes through the stop filter
    if (stopper.matched === null) {
      const tail = stopper.flush();
      if (tail) { const ev: GenEvent = { type: 'content', delta: tail }; collectEvents([ev], output); onEvent(ev); }
    } else if (reason === 'cancelled') {
      reason = 'stop';
    }
    const stopSequence = stopper.matched;
    const cachedTokens = (result as GenerateResult & { cachedTokens?: number }).cachedTokens ?? 0;
    return {
      finishReason: reason as GenResult['finishReason'], stopSequence, output,
      promptTokens: result.promptTokens || p.promptIds.length, cachedTokens, completionTokens: result.completionTokens, firstTokenAt,
    };
  }
}
