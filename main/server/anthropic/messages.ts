// messages.ts — POST /v1/messages and /v1/messages/count_tokens (Anthropic's Messages API).
// Streaming events in Anthropic's order: message_start, ping, then per block content_block_start
// → content_block_delta* → content_block_stop (thinking, text, tool_use with input_json_delta),
// message_delta (stop_reason, usage), message_stop. input_tokens excludes prompt tokens read from
// the prefix cache, which are cache_read_input_tokens, as Anthropic counts them.
import { acquire, checkModelScope, generate, type ApiContext } from '../api-context.ts';
import type { GenEvent, GenResult } from '../generation.ts';
import { ApiError } from '../http/api-error.ts';
import { SseWriter } from '../http/sse.ts';
import { parseBody } from '../http/zod-error.ts';
import { responseId } from '../openai/ids.ts';
import { anthropicThinking } from '../thinking.ts';
import { anthropicError } from './errors.ts';
import { CountTokensRequest, declaredTools, MessagesRequest, toChatMessages } from './schema.ts';

type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';

function stopReason(r: GenResult): StopReason {
  if (r.finishReason === 'tool_calls') return 'tool_use';
  if (r.finishReason === 'length') return 'max_tokens';
  return r.stopSequence !== null ? 'stop_sequence' : 'end_turn';
}

function usage(r: GenResult) {
  return { input_tokens: r.promptTokens - r.cachedTokens, output_tokens: r.completionTokens, cache_read_input_tokens: r.cachedTokens, cache_creation_input_tokens: 0 };
}

function parseInput(args: string): unknown {
  try { return JSON.parse(args); } catch { return {}; }
}

export async function countTokens(ctx: ApiContext, raw: unknown): Promise<void> {
  const body = parseBody(CountTokensRequest, raw);
  checkModelScope(ctx.principal, body.model);
  const model = ctx.deps.gen.resolveModel(body.model, '/v1/messages/count_tokens (a remote engine does not count tokens for the gateway)');
  const { promptIds: ids } = ctx.deps.gen.encodeChat(model, toChatMessages(body), declaredTools(body), anthropicThinking(body));
  ctx.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ input_tokens: ids.length }));
}

export async function messages(ctx: ApiContext, raw: unknown): Promise<void> {
  const body = parseBody(MessagesRequest, raw);
  const target = ctx.deps.gen.resolve(body.model);
  checkModelScope(ctx.principal, target.name);
  const prepared = ctx.deps.gen.prepare(target, {
    chat: { messages: toChatMessages(body), tools: declaredTools(body) }, thinking: anthropicThinking(body),
    stop: body.stop_sequences?.filter((s) => s.length > 0) ?? [], maxTokens: body.max_tokens,
    sampling: { temperature: body.temperature, topP: body.top_p, topK: body.top_k },
  });
  const id = responseId('msg_');
  const shell = { id, type: 'message', role: 'assistant', model: target.name };

  if (!body.stream) {
    const r = await generate(ctx, prepared, () => undefined);
    if (r.finishReason === 'cancelled') return;
    const o = r.output;
    const content: unknown[] = [];
    if (o.reasoning) content.push({ type: 'thinking', thinking: o.reasoning, signature: '' });
    if (o.content) content.push({ type: 'text', text: o.content });
    for (const c of o.toolCalls) content.push({ type: 'tool_use', id: c.id, name: c.function.name, input: parseInput(c.function.arguments) });
    ctx.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      ...shell, content, stop_reason: stopReason(r), stop_sequence: r.stopSequence, usage: usage(r),
    }));
    return;
  }

  const slot = await acquire(ctx, prepared);
  const sse = new SseWriter(ctx.res);
  const ev = (type: string, data: Record<string, unknown>) => sse.send({ type, ...data }, type);
  ev('message_start', { message: { ...shell, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: prepared.promptTokens, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } } });
  ev('ping', {});
  let index = -1;
  let open: 'thinking' | 'text' | 'tool_use' | null = null;
  const close = () => {
    if (open === 'thinking') ev('content_block_delta', { index, delta: { type: 'signature_delta', signature: '' } });
    if (open !== null) ev('content_block_stop', { index });
    open = null;
  };
  const begin = (kind: 'thinking' | 'text' | 'tool_use', block: Record<string, unknown>) => {
    close();
    index++;
    open = kind;
    ev('content_block_start', { index, content_block: block });
  };
  const onEvent = (e: GenEvent) => {
    switch (e.type) {
      case 'reasoning':
        if (open !== 'thinking') begin('thinking', { type: 'thinking', thinking: '', signature: '' });
        ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: e.delta } });
        break;
      case 'content':
        if (open !== 'text') begin('text', { type: 'text', text: '' });
        ev('content_block_delta', { index, delta: { type: 'text_delta', text: e.delta } });
        break;
      case 'tool_call_begin': begin('tool_use', { type: 'tool_use', id: e.id, name: e.name, input: {} }); break;
      case 'tool_call_delta': if (open === 'tool_use') ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: e.delta } }); break;
      case 'tool_call_end': case 'error': if (open === 'tool_use') close(); break;
    }
  };
  let r: GenResult;
  try {
    r = await slot.run(onEvent);
  } catch (e) {
    sse.send(anthropicError(e instanceof ApiError ? e : new ApiError('internal', String(e))), 'error');
    sse.end();
    return;
  }
  if (r.finishReason === 'cancelled') { sse.end(); return; }
  close();
  ev('message_delta', { delta: { stop_reason: stopReason(r), stop_sequence: r.stopSequence }, usage: usage(r) });
  ev('message_stop', {});
  sse.end();
}
