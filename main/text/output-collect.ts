// output-collect.ts — folds a stream of output events into the whole message (for the CLI's --json,
// non-streaming API responses and tests).
import type { FinishReason, OutputEvent, ToolCall } from '../../common/chat-types.ts';

export interface CollectedOutput {
  reasoning: string;
  content: string;
  toolCalls: ToolCall[];
  errors: Array<{ message: string; raw: string; index?: number }>;
  finishReason: FinishReason | null;
}

export function emptyOutput(): CollectedOutput {
  return { reasoning: '', content: '', toolCalls: [], errors: [], finishReason: null };
}

/** Adds events to `into` (and returns it). */
export function collectEvents(events: OutputEvent[], into: CollectedOutput = emptyOutput()): CollectedOutput {
  for (const e of events) {
    switch (e.type) {
      case 'reasoning': into.reasoning += e.delta; break;
      case 'content': into.content += e.delta; break;
      case 'tool_call_end': into.toolCalls.push(e.call); break;
      case 'error': into.errors.push(e.index === undefined ? { message: e.message, raw: e.raw } : { message: e.message, raw: e.raw, index: e.index }); break;
      case 'finish': into.finishReason = e.reason; break;
      default: break;
    }
  }
  return into;
}
