// index.ts — providers: where a generation runs (the local engine or a remote OpenAI endpoint).
export * from './types.ts';
export { ChunkAssembler, mapFinishReason } from './openai-chunks.ts';
export { OpenAiRemoteProvider, toOpenAiMessages, NOTE_NO_CACHE, NOTE_NO_TOOLS, NOTE_NO_USAGE } from './openai-remote.ts';
export { checkRemote, listRemoteModels, CHECK_TIMEOUT_MS } from './check-remote.ts';
export { normalizeBaseUrl } from './http-errors.ts';
export { readSse } from './sse.ts';
