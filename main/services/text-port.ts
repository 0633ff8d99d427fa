// text-port.ts — what the chat service needs from the text layer (main/text), for one model:
// sampling defaults, prompt rendering + tokenization, and a streaming output parser over ids.
import type { ChatMessage, OutputEvent, FinishReason, ToolSpec } from '../../common/chat-types.ts';
import { loadTextModel, renderAndEncode, type GenerationDefaults, type StreamDecoder, type TextModel } from '../text/index.ts';

export interface ModelText {
  defaults: GenerationDefaults;
  /** The template has the thinking / instant switch (K2.5 / K2.6). */
  thinkingSwitch: boolean;
  /** `startsInReasoning`: the template prefilled <think>; give it to parser(). */
  encode(messages: ChatMessage[], tools: ToolSpec[] | null, opts?: { thinking?: boolean }):
    { promptText: string; promptIds: number[]; startsInReasoning: boolean };
  parser(toolNames: string[], opts?: { startInReasoning?: boolean }): { push(id: number): OutputEvent[]; finish(reason: FinishReason): OutputEvent[] };
  /** Ids of raw text (the office server's /v1/completions); special-token text becomes special ids only with allowSpecial. */
  tokenize(text: string, allowSpecial: boolean): number[];
  /** Text of generated ids as they stream, special ids as their text (raw completions). */
  rawDecoder(): StreamDecoder;
}

export async function loadModelText(dir: string): Promise<ModelText> {
  const model: TextModel = await loadTextModel(dir);
  return {
    defaults: model.generation,
    thinkingSwitch: model.thinkingSwitch,
    encode: (messages, tools, opts) => renderAndEncode(model, messages, tools && tools.length ? tools : null, { thinking: opts?.thinking }),
    parser: (toolNames, opts) => model.createOutputParser({ toolNames, startInReasoning: opts?.startInReasoning }),
    tokenize: (text, allowSpecial) => model.tokenizer.encode(text, { allowSpecial }),
    rawDecoder: () => model.tokenizer.createStreamDecoder(),
  };
}
