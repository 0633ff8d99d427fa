// api-context.ts — what every /v1 handler shares: the caller, a signal that fires when the client
// goes away or its key is revoked, and `generate`, which takes a slot in the fair queue, runs the
// generation, frees the slot and records usage (SQLite, per key and day) and metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyStore } from '../store/key-store.ts';
import type { Principal } from './auth/access.ts';
import type { GenEvent, GenResult, Prepared, ServerGeneration } from './generation.ts';
import { ApiError } from './http/api-error.ts';
import type { ServerMetrics } from './metrics.ts';
import type { AdmissionQueue } from './queue.ts';

export interface ApiDeps {
  gen: ServerGeneration;
  queue: AdmissionQueue;
  metrics: ServerMetrics;
  keys: KeyStore;
  maxBodyBytes: number;
}

export interface ApiContext {
  deps: ApiDeps;
  req: IncomingMessage;
  res: ServerResponse;
  principal: Principal;
  /** Aborts when the client disconnects or the key is revoked. */
  signal: AbortSignal;
  /** performance.now() when the request arrived. */
  receivedAt: number;
  /** The API family, for metrics ('openai.chat', 'anthropic.messages', ...). */
  api: string;
}

/** The key may use this model (its scope lists it, or lists none). */
export function checkModelScope(p: Principal, model: string): void {
  if (p.models.length && !p.models.includes(model)) {
    throw new ApiError('permission', `this API key may not use the model '${model}' (allowed: ${p.models.join(', ')})`, { param: 'model' });
  }
}

export interface Slot {
  /** Generates in the slot, then frees it and records usage and metrics. Rejects with ApiError. */
  run(onEvent: (e: GenEvent) => void): Promise<GenResult>;
}

/**
 * Waits for a slot in the fair queue (429 / 503 come from here, before any response is sent, so a
 * stream that is refused still gets its status).
 */
export async function acquire(ctx: ApiContext, prepared: Prepared): Promise<Slot> {
  const { deps, principal } = ctx;
  const ticket = await deps.queue.admit(principal, prepared.promptTokens, ctx.signal);
  deps.metrics.queueWait.observe(ticket.waitedMs / 1000);
  return {
    async run(onEvent) {
      let result: GenResult | null = null;
      try {
        result = await deps.gen.run(prepared, ctx.signal, onEvent);
        return result;
      } catch (e) {
        throw e instanceof ApiError ? e : new ApiError('internal', `generation failed: ${(e as Error).message}`);
      } finally {
        ticket.release(result ? result.promptTokens - result.cachedTokens + result.completionTokens : 0);
        if (result) {
          if (result.firstTokenAt !== null) deps.metrics.ttft.observe((result.firstTokenAt - ctx.receivedAt) / 1000);
          deps.metrics.tokens(result.promptTokens, result.cachedTokens, result.completionTokens);
          if (result.finishReason === 'cancelled') deps.metrics.cancel();
          // A failed request is counted once, by the router, when it writes the error.
          recordUsage(deps.keys, principal.keyId, { requests: 1, promptTokens: result.promptTokens, cachedTokens: result.cachedTokens, completionTokens: result.completionTokens });
        }
      }
    },
  };
}

/** acquire + run, for non-streaming answers. */
export async function generate(ctx: ApiContext, prepared: Prepared, onEvent: (e: GenEvent) => void): Promise<GenResult> {
  return (await acquire(ctx, prepared)).run(onEvent);
}

export function recordUsage(keys: KeyStore, keyId: string, d: Parameters<KeyStore['addUsage']>[1]): void {
  try { keys.addUsage(keyId, d); } catch (e) { console.error(`karakoram serve: could not record usage: ${(e as Error).message}`); }
}
