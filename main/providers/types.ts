// types.ts — a Provider runs one generation for the chat service (or the office server's gateway):
// OpenAI-shaped messages and tools in, the text layer's OutputEvents out (reasoning, content, tool
// calls keyed by index, errors, finish), plus usage. The local engine is one provider (it renders
// the model's chat template and parses its ids); an OpenAI-compatible endpoint is another (the
// remote applies its own template and parsers). Both speak the same events, so the recorder,
// the reasoning view, tool approval and history do not care which one ran.
import type { ChatMessage, FinishReason, OutputEvent, ToolSpec } from '../../common/chat-types.ts';
import type { SamplerSettings } from '../../common/contract.ts';
import type { ProviderCapabilities } from '../../common/providers.ts';

/** Sampling as a provider gets it: the contract's sampler knobs (absent: the provider's or model's default). */
export type ProviderSampling = SamplerSettings;

export interface ProviderRequest {
  messages: ChatMessage[];
  tools: ToolSpec[];
  sampling: ProviderSampling;
  signal: AbortSignal;
}

export interface ProviderSink {
  /** Output as it streams. `tokens`: how many generated tokens these events stand for (a remote
   *  without usage reports one per chunk — vLLM and SGLang send one token per chunk). */
  output(events: OutputEvent[], tokens: number): void;
  /** Prompt processing progress, where the provider can see it (the local engine). */
  prefill?(done: number, total: number): void;
}

export interface ProviderUsage {
  promptTokens: number | null;
  completionTokens: number | null;
  /** Prompt tokens served from a prefix cache (null: the provider does not say). */
  cachedTokens: number | null;
}

export interface ProviderResult {
  /** The provider's reason; the stream's own 'finish' event (tool_calls after a call) wins. */
  finishReason: FinishReason;
  usage: ProviderUsage;
  /** Measured by the provider (the local engine); null where only the wall clock is known. */
  prefillMs: number | null;
  decodeMs: number | null;
  /** What this provider could not report or do for this generation, said to the user. */
  notes: string[];
}

export interface Provider {
  readonly id: string;
  readonly kind: 'local' | 'openai';
  /** Shown as the message's model, e.g. "kimi-k2 on gpu-box". */
  readonly label: string;
  capabilities(): ProviderCapabilities;
  /** Rejects with a ProviderError (clear message) when it cannot run; aborting the signal
   *  ends the request and resolves with finishReason 'cancelled'. */
  generate(request: ProviderRequest, sink: ProviderSink): Promise<ProviderResult>;
}

export type ProviderErrorKind = 'unreachable' | 'auth' | 'not_found' | 'bad_request' | 'server' | 'stream' | 'context';

/** A failure the user can act on; `kind` lets callers map it (HTTP status, contract code). */
export class ProviderError extends Error {
  constructor(readonly kind: ProviderErrorKind, message: string) {
    super(message);
    this.name = 'ProviderError';
  }
}
