// openai-remote.ts — a Provider over an OpenAI-compatible endpoint (vLLM, SGLang, KTransformers,
// Ollama, another Karakoram, a hosted API). The conversation goes as OpenAI messages and the
// remote applies its own chat template; the SSE stream comes back through ChunkAssembler as the
// same OutputEvents the local engine's parser emits. Aborting the signal closes the HTTP request
// (the server sees the disconnect and frees the sequence); a stream that breaks or ends before
// the answer finished is an error that names the server, and what arrived is kept by the caller.
import type { ChatMessage, OutputEvent } from '../../common/chat-types.ts';
import type { ProviderCapabilities, RemoteEndpoint } from '../../common/providers.ts';
import { authHeaders } from './check-remote.ts';
import { ChunkAssembler, StreamErrorChunk } from './openai-chunks.ts';
import { httpError, normalizeBaseUrl, safeHost, unreachable } from './http-errors.ts';
import { readSse } from './sse.ts';
import { ProviderError, type Provider, type ProviderRequest, type ProviderResult, type ProviderSink } from './types.ts';

/** How long to wait for the response headers (a cold server may queue the request a while). */
const CONNECT_TIMEOUT_MS = 120_000;

export const NOTE_NO_USAGE = 'the remote reported no token counts: the count shown is the number of streamed chunks';
export const NOTE_NO_CACHE = 'the remote manages its own prefix cache; Karakoram cannot see or steer it';
export const NOTE_NO_TOOLS = 'this remote is configured without tool calling: tools were not offered to the model';

/** The conversation as the remote's chat template reads it. */
export function toOpenAiMessages(messages: ChatMessage[], caps: ProviderCapabilities): Record<string, unknown>[] {
  // K2-Thinking's template reads earlier reasoning from the same field the server's reasoning
  // parser writes, so it goes back under that name.
  const field = caps.reasoningField === 'reasoning' ? 'reasoning' : 'reasoning_content';
  return messages.map((m) => {
    switch (m.role) {
      case 'system': case 'user': return { role: m.role, content: m.content };
      case 'tool': return { role: 'tool', content: m.content, tool_call_id: m.tool_call_id };
      case 'assistant': {
        const out: Record<string, unknown> = { role: 'assistant', content: m.content };
        if (m.reasoning_content) out[field] = m.reasoning_content;
        if (m.tool_calls?.length) out.tool_calls = m.tool_calls;
        return out;
      }
    }
  });
}

export class OpenAiRemoteProvider implements Provider {
  readonly kind = 'openai' as const;
  readonly id: string;
  readonly label: string;
  private readonly baseUrl: string;

  constructor(private readonly endpoint: RemoteEndpoint) {
    this.id = endpoint.id;
    this.baseUrl = normalizeBaseUrl(endpoint.baseUrl);
    this.label = `${endpoint.model} on ${endpoint.name}`;
  }

  capabilities(): ProviderCapabilities { return this.endpoint.capabilities; }

  /** The request body (exported for the tests and the gateway). */
  body(req: Omit<ProviderRequest, 'signal'>): Record<string, unknown> {
    const caps = this.endpoint.capabilities;
    const s = req.sampling;
    const body: Record<string, unknown> = {
      model: this.endpoint.model,
      messages: toOpenAiMessages(req.messages, caps),
      stream: true,
      ...(caps.tokenCounts ? { stream_options: { include_usage: true } } : {}),
    };
    if (req.tools.length && caps.tools) body.tools = req.tools;
    const put = (k: string, v: number | undefined) => { if (v !== undefined) body[k] = v; };
    put('temperature', s.temperature); put('top_p', s.topP); put('max_tokens', s.maxTokens); put('seed', s.seed);
    put('presence_penalty', s.presencePenalty); put('frequency_penalty', s.frequencyPenalty);
    if (caps.extraSampling) {
      // vLLM / SGLang extensions; a plain OpenAI server would refuse them.
      if (s.topK) put('top_k', s.topK);
      put('min_p', s.minP); put('repetition_penalty', s.repetitionPenalty);
    }
    return body;
  }

  async generate(req: ProviderRequest, sink: ProviderSink): Promise<ProviderResult> {
    const caps = this.endpoint.capabilities;
    const url = `${this.baseUrl}/chat/completions`;
    const notes: string[] = [];
    if (req.tools.length && !caps.tools) notes.push(NOTE_NO_TOOLS);
    const asm = new ChunkAssembler({ reasoningField: caps.reasoningField, toolNames: caps.tools ? req.tools.map((t) => t.function.name) : [] });
    const result = (reason: ProviderResult['finishReason']): ProviderResult => {
      if (!asm.sawUsage) notes.push(NOTE_NO_USAGE);
      if (asm.usage.cachedTokens === null) notes.push(NOTE_NO_CACHE);
      return { finishReason: reason, usage: asm.usage, prefillMs: null, decodeMs: null, notes };
    };
    if (req.signal.aborted) return result('cancelled');

    const timeout = AbortSignal.timeout(CONNECT_TIMEOUT_MS);
    const headersSignal = AbortSignal.any([req.signal, timeout]);
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    headersSignal.addEventListener('abort', onAbort, { once: true });
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST', signal: controller.signal,
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeaders(this.endpoint.apiKey) },
        body: JSON.stringify(this.body(req)),
      });
    } catch (e) {
      if (req.signal.aborted) return result('cancelled');
      throw unreachable(timeout.aborted ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : e, url);
    } finally {
      headersSignal.removeEventListener('abort', onAbort);
    }
    // From here only a stop ends the request (a long answer may stream for minutes).
    const stop = () => controller.abort();
    req.signal.addEventListener('abort', stop, { once: true });
    try {
      if (!res.ok) throw httpError(res.status, await res.text().catch(() => ''), url, `POST ${new URL(url).pathname}`);
      const host = safeHost(url);
      const emit = (evs: OutputEvent[]) => { if (evs.length) sink.output(evs, 1); };
      let done = false;
      const onData = (data: string) => {
        if (done) return;
        if (data.trim() === '[DONE]') { done = true; return; }
        let chunk: unknown;
        try { chunk = JSON.parse(data); } catch {
          throw new ProviderError('stream', `${host} sent a stream event that is not JSON: ${data.slice(0, 120)}`);
        }
        emit(asm.push(chunk));
      };
      const type = res.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream')) {
        // A server that ignored stream: true answers with one completion object.
        onData(await res.text());
        done = true;
      } else if (res.body) {
        const end = await readSse(res.body, onData);
        if (!done && (end.partial || asm.finishReason === null)) {
          throw new ProviderError('stream', `the stream from ${host} ended before the answer finished${end.partial ? ' (cut in the middle of an event)' : ''}; what arrived is kept`);
        }
      }
      const fin = asm.finish();
      sink.output(fin.events, 0);
      if (fin.filtered) throw new ProviderError('server', `${host} stopped the answer with its content filter`);
      return result(fin.reason);
    } catch (e) {
      // A stop keeps the text that arrived; calls cut short are never completed (not runnable).
      if (req.signal.aborted) return result('cancelled');
      if (e instanceof ProviderError) throw e;
      if (e instanceof StreamErrorChunk) throw new ProviderError('server', `${safeHost(url)} reported an error mid-stream: ${e.message}`);
      const cause = (e as { cause?: { message?: string; code?: string } }).cause;
      throw new ProviderError('stream', `the connection to ${safeHost(url)} broke in the middle of the answer (${cause?.code ?? cause?.message ?? (e as Error).message}); what arrived is kept`);
    } finally {
      req.signal.removeEventListener('abort', stop);
    }
  }
}
