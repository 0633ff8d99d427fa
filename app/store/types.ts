// types.ts — the store's shape: one zustand store assembled from slices.
import type { StoreApi } from 'zustand';
import type {
  Conversation, ConversationEvent, ConversationSummary, EngineStatus, GenerationEvent, KarakoramApi, LocalModel,
  Message, ModelInspection, SearchHit, SettingsPatch, SettingsView, StarterModel, ToolInfo,
} from '../contract.ts';
import type { ConversionEvent, DownloadView, ExpertHeat, HubHit, LibraryView, RepoView } from '../contract.ts';
import type { Attachment, ContextCount, McpServerConfig, McpServerView, Policy, ProvidersView, RemoteCheck, RemoteEndpointInput, TimingFigure } from '../contract.ts';

export interface ConversationsSlice {
  list: ConversationSummary[];
  query: string;
  hits: SearchHit[] | null;            // search results while a query is typed
  activeId: string | null;
  conversation: Conversation | null;   // the open one's metadata (title, tools, head)
  messages: Message[];                 // the visible path, root → head
  tools: ToolInfo[];
  loadingConversation: boolean;
  refreshList(): Promise<void>;
  setQuery(q: string): Promise<void>;
  openConversation(id: string | null): Promise<void>;
  reloadConversation(): Promise<void>;
  newConversation(): Promise<string | null>;
  /** The conversation being created (a click on New chat not yet answered by the core), if any. */
  pendingNewConversation(): Promise<string | null> | null;
  renameConversation(id: string, title: string): Promise<void>;
  deleteConversation(id: string): Promise<void>;
  setDemoTools(on: boolean): Promise<void>;
  /** Removes a message and what follows it; the conversation then ends at its parent. */
  deleteMessage(messageId: string): Promise<void>;
  exportConversation(id: string, format: 'md' | 'json'): Promise<{ filename: string; mimeType: string; data: string } | null>;
  importConversation(data: string, format?: 'md' | 'json'): Promise<void>;
  switchBranch(messageId: string): Promise<void>;
  applyConversationEvent(e: ConversationEvent): void;
}

export interface PendingUser { text: string; parentId: string | null }

export interface GenerationState {
  conversationId: string;
  messageId: string;                   // the assistant message streaming now
  startedAt: number;
  firstTokenAt: number | null;
  reasoningStartedAt: number | null;
  reasoningEndedAt: number | null;
  reasoningTokens: number;
  stopping: boolean;
  promptProgressAt: number | null;     // when the latest prompt_progress arrived
  pendingUser: PendingUser | null;     // the user message being sent, until its id is known
}

export interface PerfState {
  promptDone: number | null;
  promptTotal: number | null;
  cachedTokens: number | null;  // prompt tokens served from the engine's prefix cache
  ttftMs: number | null;
  tokensPerSecond: number | null;
  contextUsed: number | null;
  contextLength: number | null;
  /** Figures the remote engine that answered did not report (shown as "remote: not reported"). */
  notReported: TimingFigure[];
}

export interface ChatSlice {
  generation: GenerationState | null;
  perf: PerfState;
  draft: string;
  error: string | null;
  /** Thinking (true) or instant (false) for models with the switch (Kimi K2.5 / K2.6). */
  thinking: boolean;
  setDraft(s: string): void;
  setThinking(on: boolean): void;
  send(content?: string): Promise<void>;
  stop(): Promise<void>;
  regenerate(assistantMessageId: string): Promise<void>;
  editAndBranch(userMessageId: string, content: string): Promise<void>;
  applyGenerationEvent(e: GenerationEvent): void;
  clearError(): void;
}

export interface AttachSlice {
  /** Documents for the next message, as the core extracted them. */
  attachments: Attachment[];
  attaching: number;                   // files being extracted now
  attachError: string | null;          // why the last file could not be attached
  /** The next prompt's exact token count (null: nothing to count, or no local model). */
  meter: ContextCount | null;
  previewIndex: number | null;         // the attachment whose extracted text is shown
  attachFiles(files: Array<{ name: string; bytes: Uint8Array }>): Promise<void>;
  removeAttachment(index: number): void;
  setPreview(index: number | null): void;
  clearAttachError(): void;
  measure(): Promise<void>;
  /** The draft and attachments go to a new conversation (the older turns stay behind). */
  dropOlderTurns(): Promise<void>;
  raiseContext(tokens: number): Promise<void>;
}

export interface SettingsSlice {
  settingsView: SettingsView | null;
  loadSettings(): Promise<void>;
  updateSettings(patch: SettingsPatch): Promise<void>;
}

export interface ModelSlice {
  engine: EngineStatus;
  loadedInfo: ModelInspection | null;    // what the loaded model is (inspected once per load)
  localModels: LocalModel[];
  inspection: ModelInspection | null;    // a directory the user is looking at
  inspectError: string | null;
  inspecting: boolean;
  loading: boolean;
  /** Set by a crash, kept after the engine is back so the user learns what happened. */
  crashNotice: { error: string | null } | null;
  /** Kimi K2 Thinking: its size, the download command and the plan for this machine. */
  starter: StarterModel | null;
  starterError: string | null;
  /** The loaded model's expert heat map (routing counts per MoE layer x expert, GPU residency). */
  expertHeat: ExpertHeat | null;
  loadExpertHeat(): Promise<void>;
  loadStarter(): Promise<void>;
  dismissCrashNotice(): void;
  refreshModel(): Promise<void>;
  inspectModel(dir: string): Promise<void>;
  loadModel(dir: string): Promise<void>;
  restartEngine(): Promise<void>;
  applyEngineStatus(s: EngineStatus): void;
}

export interface ProvidersSlice {
  providers: ProvidersView;
  /** The last configuration check (or failed save) on the remote form. */
  remoteCheck: RemoteCheck | null;
  remoteBusy: boolean;
  loadProviders(): Promise<void>;
  checkRemote(input: RemoteEndpointInput): Promise<void>;
  /** Saves after the core's check; returns the id, or null (remoteCheck says why). */
  saveRemote(input: RemoteEndpointInput): Promise<string | null>;
  deleteRemote(id: string): Promise<void>;
  selectProvider(id: string | null): Promise<void>;
  /** The open conversation's engine: LOCAL_PROVIDER, a remote's id, or null to follow the default. */
  setConversationProvider(provider: string | null): Promise<void>;
  applyProviders(v: ProvidersView): void;
}

export type ApprovalKind = 'allow_once' | 'allow_conversation' | 'always_tool' | 'deny';

export interface ToolsSlice {
  mcpServers: McpServerView[];
  policies: Policy[];
  grantedFolders: string[];
  /** Server logs fetched on demand (stderr lines marked '!'). */
  mcpLogs: Record<string, string[]>;
  loadMcpLog(name: string): Promise<void>;
  /** The last failure on the Tools page, said where it happened. */
  toolsError: string | null;
  loadToolsPage(): Promise<void>;
  refreshTools(): Promise<void>;
  saveMcpServer(config: McpServerConfig): Promise<boolean>;
  setMcpEnabled(name: string, enabled: boolean): Promise<void>;
  restartMcp(name: string): Promise<void>;
  deleteMcp(name: string): Promise<void>;
  importMcpJson(text: string): Promise<void>;
  revokePolicy(p: Policy): Promise<void>;
  /** Every tool of one MCP server runs without a card (a standing, revocable policy). */
  allowServer(server: string): Promise<void>;
  setGrantedFolders(folders: string[]): Promise<void>;
  /** The answer to an approval card in the open conversation. */
  decideToolCall(callId: string, kind: ApprovalKind, message?: string): Promise<void>;
  /** Declares (or stops declaring) one tool in the open conversation. */
  toggleConversationTool(name: string, on: boolean): Promise<void>;
  applyMcpServers(v: McpServerView[]): void;
}

export type DownloadAction = 'pause' | 'resume' | 'cancel' | 'verify' | 'delete';

export interface LibrarySlice {
  hubHits: HubHit[] | null;            // null: nothing searched yet
  hubSearching: boolean;
  repoView: RepoView | null;           // the repository the page shows (files, variants, fit plan)
  repoLoading: boolean;
  library: LibraryView | null;
  downloads: DownloadView[];
  libraryError: string | null;
  /** Block-FP8 models being converted to INT4, by source folder (the latest 'conversion' event). */
  conversions: Record<string, ConversionEvent>;
  convertModel(dir: string): Promise<void>;
  applyConversion(e: ConversionEvent): void;
  loadModelsPage(): Promise<void>;
  searchHub(query: string): Promise<void>;
  openRepo(repo: string): Promise<void>;
  closeRepo(): void;
  startDownload(repo: string): Promise<void>;
  downloadAction(id: string, action: DownloadAction): Promise<void>;
  setHubToken(token: string | null): Promise<void>;
  setLibraryFolders(folders: string[]): Promise<void>;
  applyDownloads(v: DownloadView[]): void;
}

export type Panel = 'none' | 'model' | 'get-model' | 'settings' | 'help' | 'tools' | 'models';

export interface UiSlice {
  connected: boolean | null;             // null: first connection not made yet
  panel: Panel;
  expandedReasoning: Record<string, boolean>;
  editingId: string | null;
  searchFocusTick: number;
  composerFocusTick: number;
  toast: string | null;
  /** The conversation list at narrow widths (it is always shown when there is room). */
  sidebarOpen: boolean;
  setSidebarOpen(open: boolean): void;
  setPanel(p: Panel): void;
  toggleReasoning(messageId: string, expanded?: boolean): void;
  setEditing(id: string | null): void;
  focusSearch(): void;
  focusComposer(): void;
  showToast(msg: string | null): void;
  setConnected(c: boolean): void;
}

export type AppState = ConversationsSlice & ChatSlice & AttachSlice & SettingsSlice & ModelSlice & ProvidersSlice & ToolsSlice & LibrarySlice & UiSlice;

export type SliceCreator<T> = (
  set: StoreApi<AppState>['setState'],
  get: StoreApi<AppState>['getState'],
  api: KarakoramApi,
) => T;

export const DEMO_SOURCE = 'builtin-demo';
