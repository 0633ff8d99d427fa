// contract.ts — the renderer's window on common/contract.ts (types only: the renderer trusts the
// core's validated payloads and never pulls zod schemas it does not use into the hot path).
export type {
  Conversation, ConversationEvent, ConversationSummary, EngineState, EngineStatus, EventName, EventPayload,
  GenerationEvent, KarakoramApi, LocalModel, MemoryPlan, Message, MessageStatus, ModelInspection, RequestName,
  RequestParams, RequestResult, Sampling, SearchHit, Settings, SettingsPatch, SettingsView, StarterModel, Timings, ToolCallRecord,
  ToolCallStatus, ToolInfo,
} from '../common/contract.ts';
export type { FinishReason } from '../common/chat-types.ts';
export type { ContextCount, ExpertHeat, McpServerConfig, McpServerView, TimingFigure } from '../common/contract.ts';
export type { Policy } from '../common/tool-policy.ts';
export { DEFAULT_TOOL_STEPS, MAX_TOOL_STEPS } from '../common/tool-policy.ts';
export type { Attachment } from '../common/attachments.ts';
export { composeMessage, splitMessage, MAX_ATTACHMENT_BYTES } from '../common/document-blocks.ts';
export type { ProviderCapabilities, ProvidersView, ReasoningField, RemoteCheck, RemoteEndpointInput, RemoteEndpointView } from '../common/providers.ts';
export { LOCAL_PROVIDER } from '../common/providers.ts';
export type { ConversionEvent, DownloadState, DownloadView, FitPlanView, HubHit, LibraryModelView, LibraryView, RepoView, VerifyResult } from '../common/library.ts';
