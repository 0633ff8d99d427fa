// scripted-model.ts — the demo model's real text layer (template, tokenizer, K2 output parser)
// over a scripted engine, for tests of the chat service's agent loop: each generate call writes
// the next scripted output, tokenized exactly as the engine would emit it, and the prompt it was
// given is kept so a test can check what the model read.
import type { GenerateResult } from '../../main/engine/types.ts';
import { DEMO_MODEL_DIR, type LoadedModel, type ModelService } from '../../main/services/model-service.ts';
import { loadModelText } from '../../main/services/text-port.ts';

/** A K2 tool call as the model writes it inside a tool-calls section. */
export const k2Call = (name: string, args: string, idx = 0): string =>
  `<|tool_call_begin|>functions.${name}:${idx}<|tool_call_argument_begin|>${args}<|tool_call_end|>`;
/** One round that calls the given tools (reasoning first, as K2-Thinking does). */
export const k2Calls = (...cs: string[]): string =>
  `<think>I will use a tool.</think><|tool_calls_section_begin|>${cs.join('')}<|tool_calls_section_end|><|im_end|>`;
/** One round that answers in text. */
export const k2Answer = (text: string): string => `<think>I have what I need.</think>${text}<|im_end|>`;

export interface ScriptedModel {
  model: LoadedModel;
  models: ModelService;
  /** What the model writes next, one entry per generate call (an answer once it runs out). */
  script: string[];
  /** Every prompt the engine was given, in order. */
  prompts: number[][];
  /** Whether `text` (tokenized) appears in prompt `i`. */
  promptHas(i: number, text: string): boolean;
}

export async function scriptedModel(): Promise<ScriptedModel> {
  const text = await loadModelText(DEMO_MODEL_DIR);
  const model: LoadedModel = { dir: DEMO_MODEL_DIR, name: 'demo-k2', label: 'Demo model', text, maxPosition: 1 << 20,
    context: { tokens: 1 << 20, source: 'setting', why: 'context 1,048,576: scripted' }, defaultContext: { tokens: 1 << 20, source: 'model', why: 'context 1,048,576: scripted' } };
  const self: ScriptedModel = {
    model,
    models: null as unknown as ModelService,
    script: [],
    prompts: [],
    promptHas(i, s) {
      const p = self.prompts[i] ?? [];
      const ids = text.tokenize(s, false);
      return p.some((_, at) => ids.every((id, j) => p[at + j] === id));
    },
  };
  const engine = {
    async generate(promptIds: number[], _o: unknown, onTokens: (ids: number[]) => void, signal?: AbortSignal): Promise<GenerateResult> {
      self.prompts.push(promptIds);
      const out = self.script.shift() ?? k2Answer('(script ended)');
      const ids = text.tokenize(out, true);
      if (signal?.aborted) return { outputIds: [], finishReason: 'cancelled', promptTokens: promptIds.length, completionTokens: 0, cachedTokens: 0, prefillMs: 1, decodeMs: 0 };
      onTokens(ids);
      return { outputIds: ids, finishReason: 'stop', promptTokens: promptIds.length, completionTokens: ids.length, cachedTokens: 0, prefillMs: 1, decodeMs: 1 };
    },
  };
  self.models = { model, ready: async () => model, contextLength: () => 1 << 20, engine } as unknown as ModelService;
  return self;
}
