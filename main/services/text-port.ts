// text-port.ts — what the chat service needs from the text layer (main/text), for one model:
// sampling defaults, prompt rendering + tokenization, and a streaming output parser over ids.
import type { ChatMessage, OutputEvent, FinishReason, ToolSpec } from '../../common/chat-types.ts';
import { loadTextModel, renderAndEncode, type TextModel } from '../text/index.ts';

export interface TextDefaults {
  temperature: number;
  topP: number;
  topK?: number;
  maxTokens?: number;
  stopIds: number[];
}

export interface ModelText {
  defaults: TextDefaults;
  encode(messages: ChatMessage[], tools: ToolSpec[] | null): { promptText: string; promptIds: number[] };
  parser(toolNames: string[]): { push(id: number): OutputEvent[]; finish(reason: FinishReason): OutputEvent[] };
}

export async function loadModelText(dir: string): Promise<ModelText> {
  const model: TextModel = await loadTextModel(dir);
  return {
    defaults: model.generation,
    encode: (messages, tools) => renderAndEncode(model, messages, tools && tools.length ? tools : null),
    parser: (toolNames) => model.createOutputParser({ toolNames }),
  };
}
