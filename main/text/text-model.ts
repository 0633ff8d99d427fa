// text-model.ts — everything text about one model directory: tokenizer, chat template, generation
// defaults and the ids of its special tokens.
import type { ChatMessage, ToolSpec } from '../../common/chat-types.ts';
import type { BpeBackendName } from './bpe-backend.ts';
import { ChatTemplate, readChatTemplateSource } from './chat-template.ts';
import { readGenerationDefaults, type GenerationDefaults } from './generation-config.ts';
import { createIdOutputParser, type IdOutputParser } from './output-parser-ids.ts';
import type { OutputParserOptions } from './output-parser.ts';
import { KimiTokenizer } from './tokenizer.ts';
import { readVocabFiles } from './vocab-files.ts';

export interface TextModel {
  dir: string;
  tokenizer: KimiTokenizer;
  template: ChatTemplate;
  generation: GenerationDefaults;
  /** Special-token text -> id. */
  specialIds: Record<string, number>;
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
  return {
    dir, tokenizer, template,
    generation: readGenerationDefaults(dir, files.specialIds),
    specialIds: { ...files.specialIds },
    createOutputParser: (o) => createIdOutputParser(tokenizer, o),
  };
}

export interface EncodedPrompt { promptText: string; promptIds: number[] }

/** Renders a chat with the generation prompt and tokenizes it. Special tokens the template writes
 *  become special ids; special-token text inside messages or tools stays ordinary text. */
export function renderAndEncode(model: TextModel, messages: ChatMessage[], tools?: ToolSpec[] | null): EncodedPrompt {
  const segments = model.template.renderSegments(messages, { tools, addGenerationPrompt: true });
  return {
    promptText: segments.map((s) => s.text).join(''),
    promptIds: model.tokenizer.encodeSegments(segments),
  };
}

/** The streaming parser for this model's output, over generated ids. */
export function createOutputParser(model: TextModel, opts: OutputParserOptions = {}): IdOutputParser {
  return createIdOutputParser(model.tokenizer, opts);
}
