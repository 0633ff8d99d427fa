// chat.ts — POST /v1/chat/completions. Non-streaming: one chat.completion. Streaming (SSE): a role
// chunk, then reasoning_content / content / tool_calls deltas (keyed by index: the first delta of
// a call carries id, type and name, later ones argument text), a finish chunk, the usage chunk
// when stream_options.include_usage, and [DONE].
import { acquire, checkModelScope, generate, type ApiContext } from '../api-context.ts';
import type { GenEvent, GenResult } from '../generation.ts';
import { ApiError } from '../http/api-error.ts';
import { SseWriter } from '../http/sse.ts';
import { parseBody } from '../http/zod-error.ts';
import { openAiThinking } from '../thinking.ts';
import { openaiError } from './errors.ts';
import { responseId, unixSeconds } from './ids.ts';
import { applyResponseFormat, declaredTools, toChatMessages } from './messages.ts';
import { ChatCompletionRequest, stopList } from './schema.ts';

export function openaiUsage(r: GenResult) {
  return {
    prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens,
    prompt_tokens_details: { cached_tokens: r.cachedTokens },
  };
}

/** Our finish reasons in OpenAI's words ('cancelled' only reaches a client that is gone). */
export function openaiFinish(r: GenResult['finishReason']): 'stop' | 'length' | 'tool_calls' {
  return r === 'length' ? 'length' : r === 'tool_calls' ? 'tool_calls' : 'stop';
}

export async function chatCompletions(ctx: ApiContext, raw: unknown): Promise<void> {
  const body = parseBody(ChatCompletionRequest, raw);
  const target = ctx.deps.gen.resolve(body.model);
  checkModelScope(ctx.principal, target.name);
  const tools = declaredTools(body);
  const messages = applyResponseFormat(toChatMessages(body.messages), body.response_format);
  const prepared = ctx.deps.gen.prepare(target, {
    chat: { messages, tools }, stop: stopList(body.stop), thinking: openAiThinking(body),
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? null,
    sampling: { temperature: body.temperature ?? undefined, topP: body.top_p ?? undefined, seed: body.seed ?? undefined, presencePenalty: body.presence_penalty ?? undefined, frequencyPenalty: body.frequency_penalty ?? undefined },
  });
  const id = responseId('chatcmpl-');
  const created = unixSeconds();
  const base = { id, object: 'chat.completion.chunk', created, model: target.name, system_fingerprint: null };

  if (!body.stream) {
    const r = await generate(ctx, prepared, () => undefined);
    if (r.finishReason === 'cancelled') return;   // the client is gone
    const o = r.output;
    const message = {
      role: 'assistant', content: o.content || (o.toolCalls.length ? null : ''),
      ...(o.reasoning ? { reasoning_content: o.reasoning } : {}),
      ...(o.toolCalls.length ? { tool_calls: o.toolCalls.map((c) => ({ id: c.id, type: 'function', function: c.function })) } : {}),
    };
    ctx.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      id, object: 'chat.completion', created, model: target.name, system_fingerprint: null,
      choices: [{ index: 0, message, logprobs: null, finish_reason: openaiFinish(r.finishReason) }],
      usage: openaiUsage(r),
    }));
    return;
  }

  const slot = await acquire(ctx, prepared);
  const sse = new SseWriter(ctx.res);
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    sse.send({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  chunk({ role: 'assistant', content: '' });
  const onEvent = (e: GenEvent) => {
    switch (e.type) {
      case 'reasoning': chunk({ reasoning_content: e.delta }); break;
      case 'content': chunk({ content: e.delta }); break;
      case 'tool_call_begin': chunk({ tool_calls: [{ index: e.index, id: e.id, type: 'function', function: { name: e.name, arguments: '' } }] }); break;
      case 'tool_call_delta': chunk({ tool_calls: [{ index: e.index, function: { arguments: e.delta } }] }); break;
      default: break;
    }
  };
  let r: GenResult;
  try {
    r = await slot.run(onEvent);
  } catch (e) {
    // Headers are out: the error travels as an event, then the stream ends.
    sse.send(openaiError(e instanceof ApiError ? e : new ApiError('internal', String(e))));
    sse.end();
    return;
  }
  if (r.finishReason === 'cancelled') { sse.end(); return; }
  chunk({}, openaiFinish(r.finishReason));
  if (body.stream_options?.include_usage) sse.send({ ...base, choices: [], usage: openaiUsage(r) });
  sse.send('[DONE]');
  sse.end();
}
