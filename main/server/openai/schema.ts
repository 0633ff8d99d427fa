// schema.ts — the OpenAI request bodies this server reads (zod). Unknown fields are accepted and
// ignored, as OpenAI-compatible servers do; fields whose meaning cannot be honoured are refused.
import { z } from 'zod';

const TextPart = z.object({ type: z.literal('text'), text: z.string() }).passthrough();
const ContentPart = z.object({ type: z.string() }).passthrough();
export const Content = z.union([z.string(), z.array(ContentPart), z.null()]);

const ToolCallIn = z.object({
  id: z.string(),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string(), arguments: z.string() }),
}).passthrough();

export const ChatMessageIn = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: Content }).passthrough(),
  z.object({ role: z.literal('developer'), content: Content }).passthrough(),
  z.object({ role: z.literal('user'), content: Content }).passthrough(),
  z.object({
    role: z.literal('assistant'), content: Content.optional(), tool_calls: z.array(ToolCallIn).optional().nullable(),
    reasoning_content: z.string().optional().nullable(), reasoning: z.string().optional().nullable(),
  }).passthrough(),
  z.object({ role: z.literal('tool'), content: Content, tool_call_id: z.string(), name: z.string().optional() }).passthrough(),
]);
export type ChatMessageIn = z.infer<typeof ChatMessageIn>;

export const FunctionTool = z.object({
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1).max(200), description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional(), strict: z.boolean().optional().nullable() }),
});

export const ToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

const Stop = z.union([z.string(), z.array(z.string()), z.null()]).optional();
const maxTok = z.number().int().min(1).nullable().optional();

export const SamplingFields = {
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  n: z.literal(1).nullable().optional(),
};

export const ChatCompletionRequest = z.object({
  model: z.string().min(1),
  messages: z.array(ChatMessageIn).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullable().optional(),
  tools: z.array(FunctionTool).nullable().optional(),
  tool_choice: ToolChoice.nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  stop: Stop,
  max_tokens: maxTok,
  max_completion_tokens: maxTok,
  response_format: z.object({ type: z.enum(['text', 'json_object', 'json_schema']) }).passthrough().nullable().optional(),
  /** The thinking switch (with `thinking` and `chat_template_kwargs.thinking`): read by ../thinking.ts. */
  reasoning_effort: z.string().nullable().optional(),
  ...SamplingFields,
}).passthrough();
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const CompletionRequest = z.object({
  model: z.string().min(1),
  prompt: z.union([z.string(), z.array(z.string()).length(1)]),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullable().optional(),
  stop: Stop,
  max_tokens: maxTok,
  echo: z.literal(false).nullable().optional(),
  ...SamplingFields,
}).passthrough();
export type CompletionRequest = z.infer<typeof CompletionRequest>;

export function stopList(stop: string | string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return (Array.isArray(stop) ? stop : [stop]).filter((s) => s.length > 0);
}

export function isTextPart(p: unknown): p is z.infer<typeof TextPart> {
  return TextPart.safeParse(p).success;
}
