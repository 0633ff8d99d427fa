// generation.ts — the office server's thin generation service: one API request → one engine
// generation, or one request on a remote engine the gateway serves (a model id of a configured
// remote; main/providers turns its stream into the same events). Locally it renders the chat with the model's own template (main/text via the model's
// ModelText), checks the prompt against the context window before anything runs (an over-long
// prompt is a 400 naming the limit, never a silent cut), streams the engine's ids through the
// text layer's output parser (reasoning, content, tool calls), applies stop strings to the answer
// text and reports usage, including prompt tokens served from the engine's prefix cache. A remote
// renders its own prompt and enforces its own context; the stop strings and the output events
// are handled here the same way, and the remote's failures become 502s (its refusal of the
// request itself a 400) that name it.
import type { ChatMessage, FinishReason, OutputEvent, ToolSpec } from '../../common/chat-types.ts';
import type { SamplerSettings } from '../../common/contract.ts';
import type { GenerateResult, SamplingOptions } from '../engine/types.ts';
import type { RemoteEndpoint } from '../../common/providers.ts';
import { gatewayModels, routeModel, runOnRemote } from '../providers/gateway-route.ts';
import type { OpenAiRemoteProvider } from '../providers/openai-remote.ts';
import { ProviderError } from '../providers/types.ts';
import type { LoadedModel, ModelService } from '../services/model-service.ts';
import { collectEvents, emptyOutput, type CollectedOutput } from '../text/index.ts';
import { ApiError } from './http/api-error.ts';
import { StopFilter } from './stop-filter.ts';

/** Completion budget when neither the request nor the model's generation_config says. */
export const DEFAULT_MAX_TOKENS = 4096;
/** Retry-After when no model is loaded and no remote engine is served. */
const NO_MODEL_RETRY_S = 30;
/** At most this many stop strings per request (OpenAI allows 4; Anthropic more). */
export const MAX_STOP_STRINGS = 16;

export type GenEvent = Exclude<OutputEvent, { type: 'finish' }>;

/** The sampler knobs the /v1 routes read from a request (the completion budget travels as maxTokens). */
export type EngineSampling = Pick<SamplerSettings, 'temperature' | 'topP' | 'topK' | 'seed' | 'presencePenalty' | 'frequencyPenalty'>;

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

/** Where a request runs: the loaded model, or a remote engine the gateway serves (issue 19). */
export type Target =
  | { kind: 'local'; name: string; model: LoadedModel }
  | { kind: 'remote'; name: string; provider: OpenAiRemoteProvider };

export interface Prepared {
  target: Target;
  /** Prompt ids (local). A remote renders its own prompt: empty. */
  promptIds: number[];
  /** Prompt tokens known before the run (local: the ids; remote: 0 — its usage says after). */
  promptTokens: number;
  /** The chat as sent (a remote gets the messages, not ids). */
  chat: { messages: ChatMessage[]; tools: ToolSpec[] | null } | null;
  /** The template prefilled <think> (K2.5-style thinking): the output starts inside reasoning. */
  startsInReasoning: boolean;
  /** Completion budget; null (remote only): the request gave none, the remote decides. */
  maxTokens: number | null;
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

/** A remote's failure as the API error a client sees: its own request refused is a 400, the rest is the gateway's upstream failing (502). */
function upstreamError(e: ProviderError): ApiError {
  if (e.kind === 'bad_request' || e.kind === 'context') return new ApiError('invalid_request', e.message);
  return new ApiError('upstream', e.message);
}

export class ServerGeneration {
  constructor(private readonly models: ModelService, private readonly remotes: () => RemoteEndpoint[] = () => []) {}

  /** The model ids the APIs serve: the loaded model, then each remote engine's. */
  modelIds(): Array<{ id: string; ownedBy: string; maxContext: number | null }> {
    const m = this.models.loaded;
    const local = m ? [{ id: m.name, ownedBy: 'karakoram', maxContext: this.models.contextLength() }] : [];
    return [...local, ...gatewayModels(this.remotes()).filter((r) => r.id !== m?.name).map((r) => ({ id: r.id, ownedBy: r.owned_by, maxContext: r.max_model_len }))];
  }

  /**
   * The loaded model when `name` names it, else the remote engine serving `name`; 404 for neither,
   * 503 while the local model loads. `localOnly` names a route that runs only on the local model.
   */
  resolve(name: string, localOnly?: string): Target {
    const m = this.models.loaded;
    if (m && name === m.name) return { kind: 'local', name, model: m };
    const provider = routeModel(this.remotes(), name);
    if (provider) {
      if (localOnly) throw new ApiError('invalid_request', `'${name}' runs on a remote engine (${provider.label}); ${localOnly} runs only on this server's own model`, { param: 'model' });
      return { kind: 'remote', name, provider };
    }
    if (!m) {
      const st = this.models.status();
      if (st.state === 'loading' || st.state === 'restarting') {
        throw new ApiError('unavailable', `the model is ${st.state}; try again shortly`, { retryAfterS: 5 });
      }
      if (!this.remotes().length) throw new ApiError('unavailable', `no model is loaded (engine ${st.state}${st.error ? `: ${st.error}` : ''})`, { retryAfterS: NO_MODEL_RETRY_S });
    }
    const served = this.modelIds().map((x) => `'${x.id}'`).join(', ');
    throw new ApiError('not_found', `The model '${name}' does not exist on this server; it serves ${served || 'no model now'} (see GET /v1/models)`, { param: 'model', code: 'model_not_found' });
  }

  /** The local model named `name` (routes that need its tokenizer): a remote's name is a 400. */
  resolveModel(name: string, route: string): LoadedModel {
    const t = this.resolve(name, route);
    if (t.kind !== 'local') throw new Error('unreachable: resolve(localOnly) returned a remote');
    return t.model;
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

  prepare(target: Target, input: GenInput): Prepared {
    if (input.stop.length > MAX_STOP_STRINGS) throw new ApiError('invalid_request', `at most ${MAX_STOP_STRINGS} stop strings`, { param: 'stop' });
    const toolNames = (input.chat?.tools ?? []).map((t) => t.function.name);
    if (target.kind === 'remote') {
      if (!input.chat) throw new ApiError('invalid_request', `'${target.name}' is a remote engine's model: only chat requests are forwarded`, { param: 'model' });
      return { target, promptIds: [], promptTokens: 0, chat: input.chat, startsInReasoning: false, maxTokens: input.maxTokens, toolNames, raw: false, stop: input.stop, sampling: input.sampling };
    }
    const model = target.model;
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
    return { target, promptIds, promptTokens: promptIds.length, chat: input.chat ?? null, startsInReasoning: enc.startsInReasoning, maxTokens, toolNames, raw: !!input.raw, stop: input.stop, sampling: input.sampling };
  }

  /** Runs a prepared request; events stream to onEvent. Cancels with `signal`. Rejects only for engine (or remote) failures. */
  async run(p: Prepared, signal: AbortSignal, onEvent: (e: GenEvent) => void): Promise<GenResult> {
    const stopper = new StopFilter(p.stop);
    const local = new AbortController();
    const onAbort = () => local.abort();
    if (signal.aborted) local.abort(); else signal.addEventListener('abort', onAbort, { once: true });
    const output = emptyOutput();

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
    let ran: Ran;
    try {
      ran = p.target.kind === 'remote' ? await this.runRemote(p, p.target.provider, local.signal, deliver) : await this.runLocal(p, p.target.model, local.signal, deliver);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    let reason: FinishReason = stopper.matched !== null ? 'stop' : ran.reason;
    reason = ran.finishParse(reason);   // the parser's held tail still passes through the stop filter
    if (stopper.matched === null) {
      const tail = stopper.flush();
      if (tail) { const ev: GenEvent = { type: 'content', delta: tail }; collectEvents([ev], output); onEvent(ev); }
    } else if (reason === 'cancelled') {
      reason = 'stop';
    }
    return {
      finishReason: reason as GenResult['finishReason'], stopSequence: stopper.matched, output,
      promptTokens: ran.promptTokens, cachedTokens: ran.cachedTokens, completionTokens: ran.completionTokens, firstTokenAt: ran.firstTokenAt,
    };
  }

  /** One request on a remote engine: its events are already the text layer's. */
  private async runRemote(p: Prepared, provider: OpenAiRemoteProvider, signal: AbortSignal, deliver: (e: OutputEvent[]) => void): Promise<Ran> {
    const s = p.sampling;
    try {
      const r = await runOnRemote(provider, {
        messages: p.chat!.messages, tools: p.chat!.tools,
        sampling: { ...s, maxTokens: p.maxTokens ?? undefined },
      }, signal, (e) => deliver([e]));
      return { reason: r.finishReason, finishParse: (x) => x, promptTokens: r.promptTokens ?? 0, cachedTokens: r.cachedTokens, completionTokens: r.completionTokens, firstTokenAt: r.firstTokenAt };
    } catch (e) {
      throw e instanceof ProviderError ? upstreamError(e) : e;
    }
  }

  /** One request on the local engine: ids through the model's output parser. */
  private async runLocal(p: Prepared, model: LoadedModel, signal: AbortSignal, deliver: (e: OutputEvent[]) => void): Promise<Ran> {
    const defaults = model.text.defaults;
    let firstTokenAt: number | null = null;
    let push: (id: number) => void;
    let finishParse: (reason: FinishReason) => FinishReason;
    if (p.raw) {
      const dec = model.text.rawDecoder();
      const stopIds = new Set(defaults.stopIds);
      let ended = false;
      push = (id) => {
        if (ended) return;
        if (stopIds.has(id)) { ended = true; deliver([{ type: 'content', delta: dec.flush() }]); return; }
        deliver([{ type: 'content', delta: dec.push(id) }]);
      };
      finishParse = (reason) => { if (!ended) deliver([{ type: 'content', delta: dec.flush() }]); return reason; };
    } else {
      const parser = model.text.parser(p.toolNames, { startInReasoning: p.startsInReasoning });
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
      maxTokens: p.maxTokens ?? undefined, stopIds: defaults.stopIds,
    };
    const result: GenerateResult = await this.models.engine.generate(p.promptIds, engineOptions, (ids) => {
      if (firstTokenAt === null) firstTokenAt = performance.now();
      for (const id of ids) push(id);
    }, signal);
    const cachedTokens = (result as GenerateResult & { cachedTokens?: number }).cachedTokens ?? 0;
    return { reason: result.finishReason, finishParse, promptTokens: result.promptTokens || p.promptIds.length, cachedTokens, completionTokens: result.completionTokens, firstTokenAt };
  }
}

/** What one run on either side hands back to run(). */
interface Ran {
  reason: FinishReason;
  /** Ends the output parser (local): its held tail is delivered, and it may change the reason. */
  finishParse(reason: FinishReason): FinishReason;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  firstTokenAt: number | null;
}
