// text-model.ts — everything text about one model directory: tokenizer, chat template, generation
// defaults and the ids of its special tokens.
import type { ChatMessage, ToolSpec } from '../../common/chat-types.ts';
import type { BpeBackendName } from './bpe-backend.ts';
import { ChatTemplate, readChatTemplateSource } from './chat-template.ts';
import { readGenerationDefaults, type GenerationDefaults } from './generation-config.ts';
import { createIdOutputParser, type IdOutputParser } from './output-parser-ids.ts';
import { MARK, type OutputParserOptions } from './output-parser.ts';
import { KimiTokenizer } from './tokenizer.ts';
import { readVocabFiles } from './vocab-files.ts';

export interface TextModel {
  dir: string;
  tokenizer: KimiTokenizer;
  template: ChatTemplate;
  generation: GenerationDefaults;
  /** Special-token text -> id. */
  specialIds: Record<string, number>;
  /** The template has K2.5's thinking / instant switch (`thinking` changes the prompt). */
  thinkingSwitch: boolean;
  /** A streaming parser for this model's generated ids. */
  createOutputParser(opts?: OutputParserOptions): IdOutputParser;
}

export interface LoadTextModelOptions { bpeBackend?: BpeBackendName }

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

export async function loadTextModel(dir: string, opts: LoadTextModelOptions = {}): Promise<TextModel> {
  const files = readVocabFiles(dir);
  const tokenizer = new KimiTokenizer(files, opts.bpeBackend);
  const cfg = files.tokenizerConfig;
  const template = new ChatTemplate(readChatTemplateSource(dir, cfg), Object.keys(files.specialIds), {
    bos_token: tokenText(cfg.bos_token) ?? '', eos_token: tokenText(cfg.eos_token) ?? '',
    pad_token: tokenText(cfg.pad_token) ?? '', unk_token: tokenText(cfg.unk_token) ?? '',
  });
  const model: TextModel = {
    dir, tokenizer, template,
    generation: readGenerationDefaults(dir, files.specialIds),
    specialIds: { ...files.specialIds },
    thinkingSwitch: false,
    createOutputParser: (o) => createIdOutputParser(tokenizer, o),
  };
  model.thinkingSwitch = hasThinkingSwitch(model);
  return model;
}

export interface EncodedPrompt {
  promptText: string;
  promptIds: number[];
  /** The template ended the prompt inside an open <think> (K2.5 / K2.6 thinking mode): the
   *  output starts in the reasoning, with no opening tag. Pass it to the output parser. */
  startsInReasoning: boolean;
}

export interface PromptOptions {
  /** Thinking (true, the default) or instant (false), for templates that read `thinking`. */
  thinking?: boolean;
  /** K2.6: keep earlier turns' reasoning in the prompt. */
  preserveThinking?: boolean;
}

/** Renders a chat with the generation prompt and tokenizes it. Special tokens the template writes
 *  become special ids; special-token text inside messages or tools stays ordinary text. */
export function renderAndEncode(model: TextModel, messages: ChatMessage[], tools?: ToolSpec[] | null,
  opts: PromptOptions = {}): EncodedPrompt {
  const segments = model.template.renderSegments(messages, {
    tools, addGenerationPrompt: true, thinking: opts.thinking, preserveThinking: opts.preserveThinking,
  });
  const promptText = segments.map((s) => s.text).join('');
  return {
    promptText,
    promptIds: model.tokenizer.encodeSegments(segments),
    startsInReasoning: promptText.endsWith(MARK.thinkOpen),
  };
}

/** Whether the model's template has the thinking / instant switch (K2.5 / K2.6): it renders a
 *  different generation prompt for thinking false. */
export function hasThinkingSwitch(model: TextModel): boolean {
  const probe: ChatMessage[] = [{ role: 'user', content: 'x' }];
  return model.template.render(probe, { addGenerationPrompt: true, thinking: true }) !==
    model.template.render(probe, { addGenerationPrompt: true, thinking: false });
}

/** The streaming parser for this model's output, over generated ids. */
export function createOutputParser(model: TextModel, opts: OutputParserOptions = {}): IdOutputParser {
  return createIdOutputParser(model.tokenizer, opts);
}
