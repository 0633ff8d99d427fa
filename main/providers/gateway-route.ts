// gateway-route.ts — the provider side of the office server's gateway (issue 12's /v1 routes): a
// model id a client asks for is routed to the remote endpoint that serves it, and one API request
// runs there, its stream turned into the same output events (no 'finish': the reason comes back
// in the result) and usage the server's own generation reports, so the server's keys, limits,
// fair queue and usage accounting stand in front of the remote unchanged.
import type { ChatMessage, FinishReason, OutputEvent, ToolSpec } from '../../common/chat-types.ts';
import type { RemoteEndpoint } from '../../common/providers.ts';
import { OpenAiRemoteProvider } from './openai-remote.ts';
import type { ProviderSampling } from './types.ts';

export type GatewayEvent = Exclude<OutputEvent, { type: 'finish' }>;

export interface GatewayResult {
  finishReason: Exclude<FinishReason, 'error'>;
  /** null where the remote does not report them (the server's accounting then counts chunks). */
  promptTokens: number | null;
  completionTokens: number;
  cachedTokens: number;
  /** performance.now() of the first streamed output; null if none came. */
  firstTokenAt: number | null;
  notes: string[];
}

/** The remote that serves `model` (its configured model id), or null: the local model's turn. */
export function routeModel(remotes: RemoteEndpoint[], model: string | undefined): OpenAiRemoteProvider | null {
  if (model === undefined) return null;
  const r = remotes.find((x) => x.model === model);
  return r ? new OpenAiRemoteProvider(r) : null;
}

/** The model ids the gateway adds to GET /v1/models. */
export function gatewayModels(remotes: RemoteEndpoint[]): { id: string; owned_by: string; max_model_len: number | null }[] {
  return remotes.map((r) => ({ id: r.model, owned_by: r.name, max_model_len: r.capabilities.maxContext }));
}

/** Runs one request on the remote; rejects with a ProviderError (clear message) on failure. */
export async function runOnRemote(
  provider: OpenAiRemoteProvider,
  input: { messages: ChatMessage[]; tools: ToolSpec[] | null; sampling: ProviderSampling },
  signal: AbortSignal,
  onEvent: (e: GatewayEvent) => void,
): Promise<GatewayResult> {
  let firstTokenAt: number | null = null;
  let chunks = 0;
  const r = await provider.generate({ messages: input.messages, tools: input.tools ?? [], sampling: input.sampling, signal }, {
    output: (evs, n) => {
      chunks += n;
      for (const e of evs) {
        if (e.type === 'finish') continue;
        firstTokenAt ??= performance.now();
        onEvent(e);
      }
    },
  });
  const reason = r.finishReason === 'error' ? 'stop' : r.finishReason;
  return {
    finishReason: reason, promptTokens: r.usage.promptTokens, completionTokens: r.usage.completionTokens ?? chunks,
    cachedTokens: r.usage.cachedTokens ?? 0, firstTokenAt, notes: r.notes,
  };
}
