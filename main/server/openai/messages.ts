// messages.ts — OpenAI chat messages and tools as the text layer's ChatMessage / ToolSpec (which
// already follow OpenAI's shapes): developer becomes system, text parts are joined, a tool
// result gets the name of the call it answers. Images are refused: the text backbone has no eyes.
import type { ChatMessage, ToolSpec } from '../../../common/chat-types.ts';
import { toolNameFromId } from '../../text/index.ts';
import { ApiError } from '../http/api-error.ts';
import { isTextPart, type ChatCompletionRequest, type ChatMessageIn } from './schema.ts';

/** The system message a json_object response_format adds: this engine has no grammar-constrained decoding. */
export const JSON_OBJECT_INSTRUCTION = 'Respond with one valid JSON object and nothing else.';

export function textOf(content: unknown, where: string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new ApiError('invalid_request', `${where}: content must be a string or an array of parts`, { param: where });
  return content.map((p, i) => {
    if (isTextPart(p)) return p.text;
    const type = (p as { type?: unknown }).type;
    throw new ApiError('invalid_request', `${where}.content[${i}]: parts of type '${String(type)}' are not supported (text only)`, { param: `${where}.content` });
  }).join('');
}

export function toChatMessages(messages: ChatMessageIn[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  const callNames = new Map<string, string>();
  messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    switch (m.role) {
      case 'system': case 'developer': out.push({ role: 'system', content: textOf(m.content, where) }); break;
      case 'user': out.push({ role: 'user', content: textOf(m.content, where) }); break;
      case 'assistant': {
        const calls = (m.tool_calls ?? []).map((c) => {
          callNames.set(c.id, c.function.name);
          return { id: c.id, type: 'function' as const, function: { name: c.function.name, arguments: c.function.arguments } };
        });
        const reasoning = m.reasoning_content ?? m.reasoning ?? '';
        out.push({ role: 'assistant', content: textOf(m.content, where), ...(reasoning ? { reasoning_content: reasoning } : {}), ...(calls.length ? { tool_calls: calls } : {}) });
        break;
      }
      case 'tool': {
        const name = m.name ?? callNames.get(m.tool_call_id) ?? toolNameFromId(m.tool_call_id) ?? '';
        out.push({ role: 'tool', content: textOf(m.content, where), tool_call_id: m.tool_call_id, name });
        break;
      }
    }
  });
  return out;
}

/**
 * Tools the template declares, after tool_choice: 'none' declares none (the model cannot call
 * one); a named function declares only it. 'required' declares all — without constrained
 * decoding the model may still answer in text, and then finish_reason says 'stop'.
 */
export function declaredTools(body: Pick<ChatCompletionRequest, 'tools' | 'tool_choice'>): ToolSpec[] | null {
  const tools = body.tools ?? [];
  const choice = body.tool_choice;
  if (!tools.length || choice === 'none') return null;
  const specs: ToolSpec[] = tools.map((t) => ({ type: 'function', function: { name: t.function.name, ...(t.function.description !== undefined ? { description: t.function.description } : {}), ...(t.function.parameters ? { parameters: t.function.parameters } : {}) } }));
  if (choice && typeof choice === 'object') {
    const named = specs.filter((s) => s.function.name === choice.function.name);
    if (!named.length) throw new ApiError('invalid_request', `tool_choice names '${choice.function.name}', which is not in tools`, { param: 'tool_choice' });
    return named;
  }
  return specs;
}

/** Adds the JSON instruction for response_format json_object; json_schema is refused honestly. */
export function applyResponseFormat(messages: ChatMessage[], format: ChatCompletionRequest['response_format']): ChatMessage[] {
  if (!format || format.type === 'text') return messages;
  if (format.type === 'json_schema') throw new ApiError('invalid_request', "response_format 'json_schema' is not supported by this server (no constrained decoding); use 'json_object'", { param: 'response_format' });
  const first = messages[0];
  if (first?.role === 'system') return [{ role: 'system', content: `${first.content}\n\n${JSON_OBJECT_INSTRUCTION}` }, ...messages.slice(1)];
  return [{ role: 'system', content: JSON_OBJECT_INSTRUCTION }, ...messages];
}
