// schema.ts — the Anthropic Messages request bodies this server reads (zod), and their conversion
// to the text layer's ChatMessage: text blocks join, thinking blocks become reasoning_content,
// tool_use becomes an OpenAI-shaped tool call, each tool_result a tool message. Images refused.
import { z } from 'zod';
import type { ChatMessage, ToolCall, ToolSpec } from '../../../common/chat-types.ts';
import { toolNameFromId } from '../../text/index.ts';
import { ApiError } from '../http/api-error.ts';

const Block = z.object({ type: z.string() }).passthrough();
const Content = z.union([z.string(), z.array(Block)]);

export const MessageIn = z.object({ role: z.enum(['user', 'assistant']), content: Content });
const System = z.union([z.string(), z.array(z.object({ type: z.literal('text'), text: z.string() }).passthrough())]);
export const ToolIn = z.object({ name: z.string().min(1).max(200), description: z.string().optional(), input_schema: z.record(z.string(), z.unknown()).optional() }).passthrough();
export const ToolChoiceIn = z.object({ type: z.enum(['auto', 'any', 'tool', 'none']), name: z.string().optional() }).passthrough();

export const CountTokensRequest = z.object({
  model: z.string().min(1),
  messages: z.array(MessageIn).min(1),
  system: System.optional(),
  tools: z.array(ToolIn).optional(),
  tool_choice: ToolChoiceIn.optional(),
  /** The thinking switch ({type: enabled | disabled}): read by ../thinking.ts. */
  thinking: z.object({ type: z.string() }).passthrough().optional(),
}).passthrough();

export const MessagesRequest = CountTokensRequest.extend({
  max_tokens: z.number().int().min(1),
  stream: z.boolean().optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
}).passthrough();
export type MessagesRequest = z.infer<typeof MessagesRequest>;
export type CountTokensRequest = z.infer<typeof CountTokensRequest>;

function blockText(b: Record<string, unknown>, where: string): string {
  if (b.type === 'text' && typeof b.text === 'string') return b.text;
  throw new ApiError('invalid_request', `${where}: blocks of type '${String(b.type)}' are not supported here (text only)`);
}

function toolResultText(c: unknown, where: string): string {
  if (typeof c === 'string') return c;
  if (c === undefined || c === null) return '';
  if (Array.isArray(c)) return c.map((b, i) => blockText(b as Record<string, unknown>, `${where}.content[${i}]`)).join('');
  throw new ApiError('invalid_request', `${where}: tool_result content must be a string or text blocks`);
}

export function systemText(s: MessagesRequest['system']): string | null {
  if (s === undefined) return null;
  return typeof s === 'string' ? s : s.map((b) => b.text).join('\n');
}

export function toChatMessages(body: CountTokensRequest): ChatMessage[] {
  const out: ChatMessage[] = [];
  const sys = systemText(body.system);
  if (sys) out.push({ role: 'system', content: sys });
  const names = new Map<string, string>();
  body.messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    if (typeof m.content === 'string') { out.push({ role: m.role, content: m.content }); return; }
    if (m.role === 'assistant') {
      let content = '', reasoning = '';
      const calls: ToolCall[] = [];
      m.content.forEach((b, j) => {
        const w = `${where}.content[${j}]`;
        if (b.type === 'text') content += blockText(b, w);
        else if (b.type === 'thinking') reasoning += typeof b.thinking === 'string' ? b.thinking : '';
        else if (b.type === 'redacted_thinking') { /* nothing readable to send back */ }
        else if (b.type === 'tool_use') {
          if (typeof b.id !== 'string' || typeof b.name !== 'string') throw new ApiError('invalid_request', `${w}: tool_use needs id and name`);
          names.set(b.id, b.name);
          calls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
        } else throw new ApiError('invalid_request', `${w}: blocks of type '${b.type}' are not supported in assistant messages`);
      });
      out.push({ role: 'assistant', content, ...(reasoning ? { reasoning_content: reasoning } : {}), ...(calls.length ? { tool_calls: calls } : {}) });
      return;
    }
    let text = '';
    m.content.forEach((b, j) => {
      const w = `${where}.content[${j}]`;
      if (b.type === 'tool_result') {
        if (typeof b.tool_use_id !== 'string') throw new ApiError('invalid_request', `${w}: tool_result needs tool_use_id`);
        const name = names.get(b.tool_use_id) ?? toolNameFromId(b.tool_use_id) ?? '';
        const result = toolResultText(b.content, w);
        out.push({ role: 'tool', tool_call_id: b.tool_use_id, name, content: b.is_error === true ? `Error: ${result}` : result });
      } else {
        text += blockText(b, w);
      }
    });
    if (text) out.push({ role: 'user', content: text });
  });
  return out;
}

/** Tools the template declares after tool_choice ('none': none; 'tool': only the named one). */
export function declaredTools(body: CountTokensRequest): ToolSpec[] | null {
  const tools = body.tools ?? [];
  if (!tools.length || body.tool_choice?.type === 'none') return null;
  const specs: ToolSpec[] = tools.map((t) => ({ type: 'function', function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), ...(t.input_schema ? { parameters: t.input_schema } : {}) } }));
  if (body.tool_choice?.type === 'tool') {
    const named = specs.filter((s) => s.function.name === body.tool_choice!.name);
    if (!named.length) throw new ApiError('invalid_request', `tool_choice names '${body.tool_choice.name}', which is not in tools`);
    return named;
  }
  return specs;
}
