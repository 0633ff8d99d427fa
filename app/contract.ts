// contract.ts — the renderer's view of the core contract. Until common/contract.ts lands these are
// local types shaped after it; every other file of app/ imports from here, so switching to the
// shared contract is a change in this one file.
import type { FinishReason } from '../common/chat-types.ts';

export type { FinishReason };

export interface ConversationSummary {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  demoTools: boolean;
  preview?: string;
}

export type ToolCallStatus = 'pending' | 'running' | 'done' | 'error';

export interface ToolCallView {
  id: string;
  index: number;
  name: string;
  arguments: string;       // JSON text, possibly partial while it streams
  status: ToolCallStatus;
  result?: string;
  durationMs?: number;
}

export interface Timings {
  promptTokens?: number;
  completionTokens?: number;
  prefillMs?: number;
  ttftMs?: number;
  decodeMs?: number;
  tokensPerSecond?: number;
  reasoningMs?: number;
  reasoningTokens?: number;
}

export interface MessageView {
  id: string;
  conversationId: string;
  parentId: string | null;
  role: 'user' | 'assistant' | 'system' | 'tool';
  content: string;
  reasoning: string;
  toolCalls: ToolCallView[];
  createdAt: number;
  finishReason?: FinishReason | null;
  timings?: Timings;
  model?: string;
  toolCallId?: string;
}

export interface ConversationFull extends ConversationSummary {
  messages: MessageView[];
  activeLeafId?: string | null;
}

export interface SamplingSettings {
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  repetitionPenalty: number;
  seed?: number;
}

export interface Settings {
  sampling: SamplingSettings;
  contextLength: number;
  threads: number;
  systemPrompt: string;
}

export type EngineState = 'idle' | 'loading' | 'ready' | 'crashed' | 'restarting';

export interface EngineStatus {
  state: EngineState;
  pid?: number | null;
  error?: string;
  model?: string;
  progress?: number;
  stage?: string;
}

export interface ModelSummary {
  dir: string;
  name: string;
  isDemo: boolean;
  modelType: string;
  architecture: string;
  quantization: string;
  nParams: number;
  nLayers: number;
  nExperts: number;
  topK: number;
  nSharedExperts: number;
  contextLength: number;
  bytesWeights: number;
  kvBytesPerToken?: number;
  generationConfig?: Partial<SamplingSettings>;
}

export interface MemoryPlan {
  ramNeededBytes: number;
  vramNeededBytes: number;
  ramAvailableBytes: number;
  vramAvailableBytes: number;
  fits: boolean;
  note?: string;
}

export interface ModelInspection { model: ModelSummary; plan: MemoryPlan }

export interface ModelStatus { engine: EngineStatus; model: ModelSummary | null; plan?: MemoryPlan | null }

export interface SendMessageParams { conversationId: string; content: string; parentId?: string | null }
export interface GenerationHandle { conversationId: string; userMessageId?: string; assistantMessageId: string }

// Request name -> [params, result]
export interface Methods {
  'conversations.list': [{ query?: string } | undefined, ConversationSummary[]];
  'conversations.get': [{ id: string }, ConversationFull];
  'conversations.create': [{ title?: string; demoTools?: boolean } | undefined, ConversationSummary];
  'conversations.rename': [{ id: string; title: string }, ConversationSummary];
  'conversations.delete': [{ id: string }, { ok: true }];
  'conversations.update': [{ id: string; demoTools?: boolean }, ConversationSummary];
  'conversations.export': [{ id: string; format: 'markdown' | 'json' }, { filename: string; mime: string; data: string }];
  'conversations.import': [{ data: string }, ConversationSummary];
  'chat.send': [SendMessageParams, GenerationHandle];
  'chat.stop': [{ conversationId: string }, { ok: true }];
  'chat.regenerate': [{ conversationId: string; messageId: string }, GenerationHandle];
  'chat.editAndBranch': [{ conversationId: string; messageId: string; content: string }, GenerationHandle];
  'settings.get': [undefined, Settings];
  'settings.set': [Partial<Settings>, Settings];
  'model.status': [undefined, ModelStatus];
  'model.inspect': [{ dir: string }, ModelInspection];
  'model.load': [{ dir: string }, { ok: true }];
  'engine.restart': [undefined, { ok: true }];
}
export type Method = keyof Methods;
export type ParamsOf<M extends Method> = Methods[M][0];
export type ResultOf<M extends Method> = Methods[M][1];

export type CoreEvent =
  | { type: 'generation.start'; conversationId: string; messageId: string; parentId: string | null; userMessage?: MessageView }
  | { type: 'prefill.progress'; conversationId: string; messageId: string; done: number; total: number }
  | { type: 'reasoning.delta'; conversationId: string; messageId: string; delta: string }
  | { type: 'content.delta'; conversationId: string; messageId: string; delta: string }
  | { type: 'toolcall.begin'; conversationId: string; messageId: string; index: number; id: string; name: string }
  | { type: 'toolcall.delta'; conversationId: string; messageId: string; index: number; delta: string }
  | { type: 'toolcall.end'; conversationId: string; messageId: string; index: number; id: string; name: string; arguments: string; status: ToolCallStatus; result?: string; durationMs?: number }
  | { type: 'generation.finish'; conversationId: string; messageId: string; reason: FinishReason; timings: Timings; contextUsed?: number; contextMax?: number; message?: MessageView }
  | { type: 'generation.error'; conversationId: string; messageId: string; message: string }
  | { type: 'engine.status'; status: EngineStatus }
  | { type: 'model.progress'; stage: string; fraction: number }
  | { type: 'conversations.changed' };
