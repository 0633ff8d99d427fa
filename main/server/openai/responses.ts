// responses.ts — POST /v1/responses, stateless: the whole conversation comes in `input` (with
// `instructions` as the system prompt); previous_response_id is refused, nothing is stored.
// Output items: reasoning (as a summary text), message (output_text), function_call. Streaming
// sends the Responses event sequence with sequence numbers.
import { z } from 'zod';
import type { ChatMessage, ToolSpec } from '../../../common/chat-types.ts';
import { acquire, checkModelScope, generate, type ApiContext } from '../api-context.ts';
import type { GenEvent, GenResult } from '../generation.ts';
import { ApiError } from '../http/api-error.ts';
import { SseWriter } from '../http/sse.ts';
import { parseBody } from '../http/zod-error.ts';
import { responsesThinking } from '../thinking.ts';
import { openaiError } from './errors.ts';
import { responseId, unixSeconds } from './ids.ts';
import { SamplingFields } from './schema.ts';

const Item = z.object({ type: z.string().optional() }).passthrough();
const ResponsesRequest = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(Item)]),
  instructions: z.string().nullable().optional(),
  tools: z.array(z.object({ type: z.literal('function'), name: z.string().min(1), description: z.string().nullable().optional(), parameters: z.record(z.string(), z.unknown()).nullable().optional() }).passthrough()).optional(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.object({ type: z.literal('function'), name: z.string() })]).optional(),
  max_output_tokens: z.number().int().min(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  previous_response_id: z.null().optional(),
  temperature: SamplingFields.temperature,
  top_p: SamplingFields.top_p,
}).passthrough();
type ResponsesRequest = z.infer<typeof ResponsesRequest>;

function partsText(c: unknown, where: string): string {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) throw new ApiError('invalid_request', `${where}: content must be a string or parts`);
  return c.map((p: { type?: unknown; text?: unknown }, i) => {
    if ((p.type === 'input_text' || p.type === 'output_text' || p.type === 'text') && typeof p.text === 'string') return p.text;
    throw new ApiError('invalid_request', `${where}.content[${i}]: parts of type '${String(p.type)}' are not supported (text only)`);
  }).join('');
}

function toChat(body: ResponsesRequest): ChatMessage[] {
  const out: ChatMessage[] = body.instructions ? [{ role: 'system', content: body.instructions }] : [];
  if (typeof body.input === 'string') return [...out, { role: 'user', content: body.input }];
  const names = new Map<string, string>();
  body.input.forEach((it, i) => {
    const where = `input[${i}]`;
    const x = it as Record<string, unknown>;
    const type = x.type ?? 'message';
    if (type === 'message') {
      const role = x.role;
      const text = partsText(x.content, where);
      if (role === 'system' || role === 'developer') out.push({ role: 'system', content: text });
      else if (role === 'user') out.push({ role: 'user', content: text });
      else if (role === 'assistant') out.push({ role: 'assistant', content: text });
      else throw new ApiError('invalid_request', `${where}: unknown role '${String(role)}'`);
    } else if (type === 'function_call') {
      const callId = String(x.call_id ?? ''), name = String(x.name ?? '');
      names.set(callId, name);
      const call = { id: callId, type: 'function' as const, function: { name, arguments: String(x.arguments ?? '{}') } };
      const last = out[out.length - 1];
      if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
      else out.push({ role: 'assistant', content: '', tool_calls: [call] });
    } else if (type === 'function_call_output') {
      const callId = String(x.call_id ?? '');
      out.push({ role: 'tool', tool_call_id: callId, name: names.get(callId) ?? '', content: typeof x.output === 'string' ? x.output : JSON.stringify(x.output) });
    } else if (type === 'reasoning') {
      // Reasoning items from an earlier response are not replayed (as OpenAI does for stateless calls).
    } else {
      throw new ApiError('invalid_request', `${where}: input items of type '${String(type)}' are not supported`);
    }
  });
  return out;
}

function toolsOf(body: ResponsesRequest): ToolSpec[] | null {
  if (!body.tools?.length || body.tool_choice === 'none') return null;
  const specs: ToolSpec[] = body.tools.map((t) => ({ type: 'function', function: { name: t.name, ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { parameters: t.parameters } : {}) } }));
  const choice = body.tool_choice;
  if (choice && typeof choice === 'object') return specs.filter((s) => s.function.name === choice.name);
  return specs;
}

function usageOf(r: GenResult) {
  return { input_tokens: r.promptTokens, input_tokens_details: { cached_tokens: r.cachedTokens }, output_tokens: r.completionTokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: r.promptTokens + r.completionTokens };
}

export async function responses(ctx: ApiContext, raw: unknown): Promise<void> {
  const body = parseBody(ResponsesRequest, raw);
  const target = ctx.deps.gen.resolve(body.model);
  checkModelScope(ctx.principal, target.name);
  const prepared = ctx.deps.gen.prepare(target, {
    chat: { messages: toChat(body), tools: toolsOf(body) }, stop: [], maxTokens: body.max_output_tokens ?? null, thinking: responsesThinking(body),
    sampling: { temperature: body.temperature ?? undefined, topP: body.top_p ?? undefined },
  });
  const id = responseId('resp_');
  const shell = { id, object: 'response', created_at: unixSeconds(), model: target.name, instructions: body.instructions ?? null, store: false };
  const finalOf = (r: GenResult) => {
    const o = r.output;
    const output: unknown[] = [];
    if (o.reasoning) output.push({ type: 'reasoning', id: `rs_${id.slice(5)}`, summary: [{ type: 'summary_text', text: o.reasoning }] });
    if (o.content || !o.toolCalls.length) output.push({ type: 'message', id: `msg_${id.slice(5)}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: o.content, annotations: [] }] });
    o.toolCalls.forEach((c, i) => output.push({ type: 'function_call', id: `fc_${i}_${id.slice(5)}`, call_id: c.id, name: c.function.name, arguments: c.function.arguments, status: 'completed' }));
    const incomplete = r.finishReason === 'length';
    return { ...shell, status: incomplete ? 'incomplete' : 'completed', incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null, output, usage: usageOf(r) };
  };
  if (!body.stream) {
    const r = await generate(ctx, prepared, () => undefined);
    if (r.finishReason === 'cancelled') return;
    ctx.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(finalOf(r)));
    return;
  }
  const slot = await acquire(ctx, prepared);
  const sse = new SseWriter(ctx.res);
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) => sse.send({ type, sequence_number: seq++, ...data }, type);
  ev('response.created', { response: { ...shell, status: 'in_progress', output: [] } });
  ev('response.in_progress', { response: { ...shell, status: 'in_progress', output: [] } });
  let outIndex = -1;
  let open: 'reasoning' | 'message' | 'call' | null = null;
  let text = '';
  let callId = '', callName = '';
  const close = () => {
    if (open === 'reasoning') {
      ev('response.reasoning_summary_text.done', { item_id: `rs_${id.slice(5)}`, output_index: outIndex, summary_index: 0, text });
      ev('response.output_item.done', { output_index: outIndex, item: { type: 'reasoning', id: `rs_${id.slice(5)}`, summary: [{ type: 'summary_text', text }] } });
    } else if (open === 'message') {
      const item = `msg_${id.slice(5)}`;
      ev('response.output_text.done', { item_id: item, output_index: outIndex, content_index: 0, text });
      ev('response.content_part.done', { item_id: item, output_index: outIndex, content_index: 0, part: { type: 'output_text', text, annotations: [] } });
      ev('response.output_item.done', { output_index: outIndex, item: { type: 'message', id: item, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] } });
    } else if (open === 'call') {
      const item = `fc_${outIndex}_${id.slice(5)}`;
      ev('response.function_call_arguments.done', { item_id: item, output_index: outIndex, arguments: text });
      ev('response.output_item.done', { output_index: outIndex, item: { type: 'function_call', id: item, call_id: callId, name: callName, arguments: text, status: 'completed' } });
    }
    open = null; text = '';
  };
  const onEvent = (e: GenEvent) => {
    if (e.type === 'reasoning') {
      if (open !== 'reasoning') { close(); outIndex++; open = 'reasoning'; ev('response.output_item.added', { output_index: outIndex, item: { type: 'reasoning', id: `rs_${id.slice(5)}`, summary: [] } }); }
      text += e.delta;
      ev('response.reasoning_summary_text.delta', { item_id: `rs_${id.slice(5)}`, output_index: outIndex, summary_index: 0, delta: e.delta });
    } else if (e.type === 'content') {
      const item = `msg_${id.slice(5)}`;
      if (open !== 'message') {
        close(); outIndex++; open = 'message';
        ev('response.output_item.added', { output_index: outIndex, item: { type: 'message', id: item, role: 'assistant', status: 'in_progress', content: [] } });
        ev('response.content_part.added', { item_id: item, output_index: outIndex, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      }
      text += e.delta;
      ev('response.output_text.delta', { item_id: item, output_index: outIndex, content_index: 0, delta: e.delta });
    } else if (e.type === 'tool_call_begin') {
      close(); outIndex++; open = 'call'; callId = e.id; callName = e.name;
      ev('response.output_item.added', { output_index: outIndex, item: { type: 'function_call', id: `fc_${outIndex}_${id.slice(5)}`, call_id: e.id, name: e.name, arguments: '', status: 'in_progress' } });
    } else if (e.type === 'tool_call_delta' && open === 'call') {
      text += e.delta;
      ev('response.function_call_arguments.delta', { item_id: `fc_${outIndex}_${id.slice(5)}`, output_index: outIndex, delta: e.delta });
    } else if ((e.type === 'tool_call_end' || e.type === 'error') && open === 'call') {
      close();
    }
  };
  let r: GenResult;
  try {
    r = await slot.run(onEvent);
  } catch (e) {
    ev('error', openaiError(e instanceof ApiError ? e : new ApiError('internal', String(e))).error);
    sse.end();
    return;
  }
  if (r.finishReason === 'cancelled') { sse.end(); return; }
  close();
  const final = finalOf(r);
  ev(final.status === 'completed' ? 'response.completed' : 'response.incomplete', { response: final });
  sse.end();
}
