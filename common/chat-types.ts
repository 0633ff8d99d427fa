// chat-types.ts — the chat vocabulary shared by the core (main/) and the renderer (app/).
// Messages follow OpenAI's shapes; output events are what the streaming parser emits.

export interface ToolCall {
  id: string;                       // K2's raw id: "functions.NAME:IDX"
  type: 'function';
  function: { name: string; arguments: string };  // arguments: JSON text
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; reasoning_content?: string; tool_calls?: ToolCall[] }
  | { role: 'tool'; content: string; tool_call_id: string; name: string };

export interface ToolSpec {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'cancelled' | 'error';

// Emitted incrementally while tokens stream in. Concatenating the deltas of one kind gives the
// whole text of that kind; tool-call argument deltas concatenate to the call's JSON arguments.
export type OutputEvent =
  | { type: 'reasoning'; delta: string }
  | { type: 'content'; delta: string }
  | { type: 'tool_call_begin'; index: number; id: string; name: string }
  | { type: 'tool_call_delta'; index: number; delta: string }
  | { type: 'tool_call_end'; index: number; call: ToolCall }
  // Malformed output, kept visible. `index` is set when it ends a call whose tool_call_begin was
  // already emitted (that call then gets no tool_call_end and is not part of the result).
  | { type: 'error'; message: string; raw: string; index?: number }
  | { type: 'finish'; reason: FinishReason };
