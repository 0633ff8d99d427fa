// index.ts — the text layer: Kimi tokenizer, chat template, generation defaults, output parsing.
export { loadTextModel, renderAndEncode, createOutputParser } from './text-model.ts';
export type { TextModel, EncodedPrompt, LoadTextModelOptions } from './text-model.ts';
export { KimiTokenizer } from './tokenizer.ts';
export type { EncodeOptions, TextSegment } from './tokenizer.ts';
export type { StreamDecoder } from './stream-decoder.ts';
export { ChatTemplate } from './chat-template.ts';
export type { RenderOptions } from './chat-template.ts';
export type { GenerationDefaults } from './generation-config.ts';
export { createTextOutputParser, MARK, DEFAULT_END_MARKERS } from './output-parser.ts';
export type { OutputParser, OutputParserOptions } from './output-parser.ts';
export { createIdOutputParser } from './output-parser-ids.ts';
export type { IdOutputParser } from './output-parser-ids.ts';
export { collectEvents, emptyOutput } from './output-collect.ts';
export type { CollectedOutput } from './output-collect.ts';
export { toolNameFromId } from './tool-call-id.ts';
export { DEFAULT_BPE_BACKEND } from './bpe-backend.ts';
export type { BpeBackendName } from './bpe-backend.ts';
