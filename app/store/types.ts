// types.ts — the store's shape: one zustand store assembled from slices.
import type { StoreApi } from 'zustand';
import type {
  ConversationSummary, CoreEvent, EngineStatus, MemoryPlan, MessageView, ModelInspection, ModelSummary, Settings,
} from '../contract.ts';
import type { ConnectionState, ContractClient } from '../transport/client.ts';

export interface ConversationsSlice {
  list: ConversationSummary[];
  query: string;
  activeId: string | null;
  messages: Record<string, MessageView>;
  selected: Record<string, string>;
  loadingConversation: boolean;
  refreshList(): Promise<void>;
  setQuery(q: string): Promise<void>;
  openConversation(id: string | null): Promise<void>;
  newConversation(opts?: { demoTools?: boolean }): Promise<string | null>;
  renameConversation(id: string, title: string): Promise<void>;
  deleteConversation(id: string): Promise<void>;
  setDemoTools(id: string, on: boolean): Promise<void>;
  exportConversation(id: string, format: 'markdown' | 'json'): Promise<{ filename: string; mime: string; data: string } | null>;
  importConversation(data: string): Promise<void>;
  selectBranch(messageId: string): void;
}

export interface GenerationState {
  conversationId: string;
  messageId: string;
  startedAt: number;
  firstTokenAt: number | null;
  reasoningStartedAt: number | null;
  reasoningEndedAt: number | null;
  reasoningTokens: number;
  contentTokens: number;
  prefillDone: number;
  prefillTotal: number;
  stopping: boolean;
}

export interface PerfState {
  prefillFraction: number | null;
  ttftMs: number | null;
  tokensPerSecond: number | null;
  contextUsed: number | null;
  contextMax: number | null;
}

export interface ChatSlice {
  generation: GenerationState | null;
  perf: PerfState;
  draft: string;
  error: string | null;
  setDraft(s: string): void;
  send(content?: string): Promise<void>;
  stop(): Promise<void>;
  regenerate(assistantMessageId: string): Promise<void>;
  editAndBranch(userMessageId: string, content: string): Promise<void>;
  applyEvent(e: CoreEvent): void;
  clearError(): void;
}

export interface SettingsSlice {
  settings: Settings | null;
  loadSettings(): Promise<void>;
  updateSettings(patch: Partial<Settings>): Promise<void>;
}

export interface ModelSlice {
  engine: EngineStatus;
  model: ModelSummary | null;
  plan: MemoryPlan | null;
  inspection: ModelInspection | null;
  inspectError: string | null;
  inspecting: boolean;
  loadProgress: { stage: string; fraction: number } | null;
  refreshModel(): Promise<void>;
  inspectModel(dir: string): Promise<void>;
  loadModel(dir: string): Promise<void>;
  restartEngine(): Promise<void>;
}

export type Panel = 'none' | 'model' | 'settings' | 'help';

export interface UiSlice {
  connection: ConnectionState;
  panel: Panel;
  expandedReasoning: Record<string, boolean>;
  editingId: string | null;
  searchFocusTick: number;
  composerFocusTick: number;
  toast: string | null;
  setPanel(p: Panel): void;
  toggleReasoning(messageId: string, expanded?: boolean): void;
  setEditing(id: string | null): void;
  focusSearch(): void;
  focusComposer(): void;
  showToast(msg: string | null): void;
  setConnection(s: ConnectionState): void;
}

export type AppState = ConversationsSlice & ChatSlice & SettingsSlice & ModelSlice & UiSlice;

export type SliceCreator<T> = (
  set: StoreApi<AppState>['setState'],
  get: StoreApi<AppState>['getState'],
  client: ContractClient,
) => T;
