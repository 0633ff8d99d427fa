// contract.ts — the one typed contract between the renderer (app/) and the core (main/).
// Every request and every event is declared here once, as a zod schema with its inferred type.
// The same verbs and events travel over Electron IPC (preload) and over the WebSocket of
// `karakoram serve`. No Node, Electron or native imports: app/ imports this file.
//
// Vocabulary:
// - A conversation is a tree of messages (parentId links); `headId` is the leaf currently shown.
//   getConversation returns the path root → head, each message with its siblings so the UI can
//   switch branches (switchBranch).
// - An assistant turn may span several messages: assistant (with toolCalls) → tool (result) →
//   assistant (answer). The UI renders consecutive assistant/tool messages as one turn; the tool
//   message's result is also copied into the matching ToolCallRecord so a card can show it alone.
// - Generation events name the message they stream into; the message exists in the store from the
//   first event ('started') and is updated as tokens arrive.
import { z } from 'zod';
import { AttachmentSchema, MAX_ATTACHMENT_BASE64 } from './attachments.ts';
import {
  ConversionEventSchema, DownloadViewSchema, HubHitSchema, LibraryViewSchema, RepoId, RepoViewSchema, Revision, VerifyResultSchema,
} from './library.ts';
import { ProvidersViewSchema, RemoteCheckSchema, RemoteEndpointInputSchema, RemoteEndpointViewSchema } from './providers.ts';
import { MAX_TOOL_STEPS } from './tool-policy.ts';

// ---------------------------------------------------------------------------------------------
// Shared pieces

export const Id = z.string().min(1).max(200);

export const ToolSpecSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1).max(200),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** Sampling settings; every field optional (absent = the model's generation_config default). */
export const SamplingSchema = z.object({
  temperature: z.number().min(0).max(5).optional(),
  topP: z.number().gt(0).max(1).optional(),
  topK: z.number().int().min(0).max(100_000).optional(),
  minP: z.number().min(0).max(1).optional(),
  repetitionPenalty: z.number().min(0.5).max(3).optional(),
  presencePenalty: z.number().min(-2).max(2).optional(),
  frequencyPenalty: z.number().min(-2).max(2).optional(),
  maxTokens: z.number().int().min(1).max(1_000_000).optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  /** Kimi K2.5 / K2.6 thinking (true, their default) or instant (false). Not a sampler knob: it
   *  picks the generation prompt, but travels with the sampling so a regenerated answer and the
   *  rounds after a tool result keep the mode. Models without the switch ignore it. */
  thinking: z.boolean().optional(),
});
export type Sampling = z.infer<typeof SamplingSchema>;
/** The sampler's own knobs (what an engine or a remote is given): Sampling less `thinking`, which
 *  picks the prompt in the text layer. */
export type SamplerSettings = Omit<Sampling, 'thinking'>;

export const FinishReasonSchema = z.enum(['stop', 'length', 'tool_calls', 'cancelled', 'error']);

/** The figures a provider may leave unreported. */
export const TimingFigureSchema = z.enum(['prompt', 'cached', 'completion']);
export type TimingFigure = z.infer<typeof TimingFigureSchema>;

/** Measured for one generated message; the performance strip shows these. */
export const TimingsSchema = z.object({
  promptTokens: z.number().int().min(0),
  cachedTokens: z.number().int().min(0).optional(),  // of the prompt, served from the prefix cache
  completionTokens: z.number().int().min(0),
  promptMs: z.number().min(0),           // prompt processing (prefill)
  ttftMs: z.number().min(0),             // request accepted → first generated token
  decodeMs: z.number().min(0),           // first token → last token
  promptTokensPerSecond: z.number().min(0),
  tokensPerSecond: z.number().min(0),    // decode speed
  contextUsed: z.number().int().min(0),  // prompt + completion tokens in the context window
  contextLength: z.number().int().min(0),
  /** What the provider could not report (a remote without token counts or cache figures). */
  notes: z.array(z.string()).optional(),
  /** Figures a remote did not report: the count above is then not the remote's (0, or streamed
   *  chunks), and the app shows "remote: not reported" instead of it. */
  notReported: z.array(TimingFigureSchema).optional(),
});
export type Timings = z.infer<typeof TimingsSchema>;

// awaiting_approval: validated, waiting for the user's decision (the card shows the buttons);
// denied: the user said no (the model was told, with their message if any).
export const ToolCallStatusSchema = z.enum(['streaming', 'pending', 'awaiting_approval', 'running', 'done', 'error', 'denied']);
export type ToolCallStatus = z.infer<typeof ToolCallStatusSchema>;

/** A tool call as a card shows it: what the model asked for and what came back. */
export const ToolCallRecordSchema = z.object({
  id: z.string(),                        // K2's raw id "functions.NAME:IDX"
  name: z.string(),
  arguments: z.string(),                 // JSON text as the model wrote it
  status: ToolCallStatusSchema,
  result: z.string().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().min(0).nullable(),
  /** Shown on the card beside the result, e.g. "Demo data, not a real forecast". */
  note: z.string().nullable().optional(),
  /** The server the tool belongs to ('demo', 'files', or an MCP server's name). */
  server: z.string().nullable().optional(),
  /** Who let it run: a standing policy, an allowance for this conversation, or the user now. */
  approvedBy: z.enum(['policy', 'conversation', 'user']).nullable().optional(),
});
export type ToolCallRecord = z.infer<typeof ToolCallRecordSchema>;

export const MessageStatusSchema = z.enum(['streaming', 'complete', 'stopped', 'error', 'interrupted']);
export type MessageStatus = z.infer<typeof MessageStatusSchema>;

export const MessageSchema = z.object({
  id: Id,
  conversationId: Id,
  parentId: Id.nullable(),
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
  reasoning: z.string(),                 // '' when the model did not think
  reasoningMs: z.number().min(0).nullable(),   // time spent thinking (assistant)
  reasoningTokens: z.number().int().min(0).nullable(),
  toolCalls: z.array(ToolCallRecordSchema),     // assistant only
  toolCallId: z.string().nullable(),     // tool only: which call this answers
  toolName: z.string().nullable(),       // tool only
  status: MessageStatusSchema,
  finishReason: FinishReasonSchema.nullable(),
  error: z.string().nullable(),
  timings: TimingsSchema.nullable(),
  model: z.string().nullable(),          // label of the model that wrote it
  sampling: SamplingSchema.nullable(),   // settings it was generated with
  createdAt: z.number(),                 // ms since epoch
  /** Ids of all messages with the same parent (including this one), oldest first. */
  siblingIds: z.array(Id),
});
export type Message = z.infer<typeof MessageSchema>;

export const ConversationSummarySchema = z.object({
  id: Id,
  title: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  messageCount: z.number().int().min(0),
  preview: z.string(),                   // start of the last message on the current branch
  generating: z.boolean(),
});
export type ConversationSummary = z.infer<typeof ConversationSummarySchema>;

export const ConversationSchema = ConversationSummarySchema.extend({
  headId: Id.nullable(),
  tools: z.array(z.string()),            // names of declared tools (see listTools)
  systemPrompt: z.string().nullable(),   // null: the settings' system prompt
  /** The engine this conversation generates with: null the default (Remote engines' choice),
   *  'local' (LOCAL_PROVIDER) the local engine, or a remote engine's id. */
  provider: z.string().nullable(),
  messages: z.array(MessageSchema),      // path root → head
});
export type Conversation = z.infer<typeof ConversationSchema>;

export const SearchHitSchema = z.object({
  conversation: ConversationSummarySchema,
  messageId: Id.nullable(),              // null when the title matched
  snippet: z.string(),
});
export type SearchHit = z.infer<typeof SearchHitSchema>;

export const ToolInfoSchema = z.object({
  spec: ToolSpecSchema,
  /** builtin-demo: the demo model's tools; builtin: read_file / list_dir; mcp: a server's. */
  source: z.enum(['builtin-demo', 'builtin', 'mcp']),
  label: z.string(),                     // e.g. "Weather (demo data)"
  /** What approvals and policies group it under: 'demo', 'files' or the MCP server's name. */
  server: z.string(),
});
export type ToolInfo = z.infer<typeof ToolInfoSchema>;

/** A standing approval (common/tool-policy.ts): one tool of a server, or all of a server's tools. */
export const PolicySchema = z.object({
  scope: z.enum(['tool', 'server']),
  server: z.string(),
  tool: z.string().nullable(),
  demoModelOnly: z.boolean().optional(),
  createdAt: z.number(),
});

/** A tool call waiting for the user's decision (the approval card). */
export const ApprovalRequestSchema = z.object({
  conversationId: Id,
  messageId: Id,
  callId: z.string(),
  server: z.string(),
  tool: z.string(),
  arguments: z.string(),                 // validated against the tool's schema, JSON text
});
export type ApprovalRequestView = z.infer<typeof ApprovalRequestSchema>;

export const ApprovalDecisionKindSchema = z.enum(['allow_once', 'allow_conversation', 'always_tool', 'deny']);

/**
 * An MCP server the user added: a local command over stdio, or a Streamable HTTP endpoint. It is
 * started only while `enabled`; `name` is how its tools are grouped and approved.
 */
export const McpServerConfigSchema = z.discriminatedUnion('transport', [
  z.object({
    name: z.string().min(1).max(100).regex(/^[\w.-]+$/, 'letters, digits, _ . - only'),
    transport: z.literal('stdio'),
    command: z.string().min(1).max(4096),
    args: z.array(z.string().max(4096)).max(200).default([]),
    env: z.record(z.string(), z.string()).default({}),
    cwd: z.string().max(4096).nullable().default(null),
    enabled: z.boolean().default(false),
  }),
  z.object({
    name: z.string().min(1).max(100).regex(/^[\w.-]+$/, 'letters, digits, _ . - only'),
    transport: z.literal('http'),
    url: z.string().url().max(4096),
    headers: z.record(z.string(), z.string()).default({}),
    enabled: z.boolean().default(false),
  }),
]);
export type McpServerConfig = z.infer<typeof McpServerConfigSchema>;

export const McpServerStateSchema = z.enum(['stopped', 'starting', 'running', 'crashed', 'error']);
export type McpServerState = z.infer<typeof McpServerStateSchema>;

/** A configured MCP server as the Tools page shows it. */
export const McpServerViewSchema = z.object({
  config: McpServerConfigSchema,
  state: McpServerStateSchema,
  error: z.string().nullable(),
  pid: z.number().int().nullable(),
  tools: z.array(z.object({ name: z.string(), exposedAs: z.string(), description: z.string().optional() })),
});
export type McpServerView = z.infer<typeof McpServerViewSchema>;

export const McpLogLineSchema = z.object({ at: z.number(), stream: z.enum(['stderr', 'event']), text: z.string() });

// Settings ------------------------------------------------------------------------------------

export const SettingsSchema = z.object({
  sampling: SamplingSchema,              // overrides of the model defaults
  contextLength: z.number().int().min(256).max(1_048_576).nullable(),  // null: model default (capped)
  threads: z.number().int().min(0).max(1024),                          // 0: all cores
  systemPrompt: z.string().max(100_000), // '' : the chat template's default
  defaultTools: z.array(z.string()),     // tools declared in new conversations
  /** While the demo model is loaded, new conversations also declare its demo tools. */
  demoTools: z.boolean(),
  /** Rounds of tool calls one turn may run before the loop stops (the agent's step limit). */
  maxToolSteps: z.number().int().min(1).max(MAX_TOOL_STEPS),
  /** The Hugging Face–compatible hub the library searches and downloads from; null: HF_ENDPOINT, else huggingface.co. */
  hubEndpoint: z.string().url().max(2000).nullable(),
  /** Bandwidth limit over all downloads, MB/s (2^20 bytes); 0: none. */
  downloadLimitMBps: z.number().min(0).max(100_000),
  /** Compute backend: 'auto' uses CUDA when the plugin, a driver and a device are found. */
  backend: z.enum(['auto', 'cpu', 'cuda']),
  /** GPU memory for the hot routed experts, GiB (2^30 bytes); 0: automatic (half the free memory less 1 GiB). */
  gpuExpertBudgetGiB: z.number().min(0).max(65_536),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const SettingsPatchSchema = z.object({
  sampling: SamplingSchema.optional(),   // replaces the whole override set
  contextLength: SettingsSchema.shape.contextLength.optional(),
  threads: SettingsSchema.shape.threads.optional(),
  systemPrompt: SettingsSchema.shape.systemPrompt.optional(),
  defaultTools: SettingsSchema.shape.defaultTools.optional(),
  demoTools: SettingsSchema.shape.demoTools.optional(),
  maxToolSteps: SettingsSchema.shape.maxToolSteps.optional(),
  hubEndpoint: SettingsSchema.shape.hubEndpoint.optional(),
  downloadLimitMBps: SettingsSchema.shape.downloadLimitMBps.optional(),
  backend: SettingsSchema.shape.backend.optional(),
  gpuExpertBudgetGiB: SettingsSchema.shape.gpuExpertBudgetGiB.optional(),
});
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

export const SettingsViewSchema = z.object({
  settings: SettingsSchema,
  /** The loaded model's generation defaults (generation_config.json), for placeholders. */
  modelDefaults: z.object({
    sampling: SamplingSchema,
    contextLength: z.number().int().min(0),
  }),
});
export type SettingsView = z.infer<typeof SettingsViewSchema>;

// Models --------------------------------------------------------------------------------------

export const LocalModelSchema = z.object({
  dir: z.string(),
  name: z.string(),
  label: z.string(),                     // "Demo model (12M, offline)"
  source: z.enum(['bundled', 'shared', 'user']),
  sizeBytes: z.number().min(0),
  loaded: z.boolean(),
});
export type LocalModel = z.infer<typeof LocalModelSchema>;

export const MemoryPlanSchema = z.object({
  weightsBytes: z.number().min(0),
  kvBytesPerToken: z.number().min(0),
  contextLength: z.number().int().min(0),    // the context the plan is for
  contextWhy: z.string(),                    // where that context came from: "context 131,072: …"
  ramNeededBytes: z.number().min(0),
  vramNeededBytes: z.number().min(0),        // 0 on a CPU-only plan
  ramTotalBytes: z.number().min(0),
  ramAvailableBytes: z.number().min(0),
  vramTotalBytes: z.number().min(0).nullable(),   // null: no GPU found
  gpuName: z.string().nullable(),
  fits: z.boolean(),
  notes: z.array(z.string()),
});
export type MemoryPlan = z.infer<typeof MemoryPlanSchema>;

export const ModelInspectionSchema = z.object({
  dir: z.string(),
  name: z.string(),
  label: z.string(),
  modelType: z.string(),
  architecture: z.string(),
  params: z.object({ total: z.number(), activePerToken: z.number() }),
  layers: z.number().int(),
  denseLayers: z.number().int(),
  hidden: z.number().int(),
  heads: z.number().int(),
  vocab: z.number().int(),
  experts: z.object({
    routed: z.number().int(), perToken: z.number().int(), shared: z.number().int(),
    intermediate: z.number().int(),
  }),
  quantization: z.string(),              // human summary, e.g. "INT4 experts (group 32) + bf16"
  family: z.string(),                    // "Kimi K2.5", "Kimi K2 (K2-Thinking layout, INT4 experts)", ...
  limitations: z.array(z.string()),      // what Karakoram cannot do with it (K2.5: images)
  contextLength: z.number().int(),
  memory: MemoryPlanSchema,
});
export type ModelInspection = z.infer<typeof ModelInspectionSchema>;

/**
 * The real model a new user is pointed to, and what it takes here: its size worked out from its
 * config.json before any download, the command that downloads it, and a memory plan against
 * this machine (the model library, when it exists, supersedes this).
 */
export const StarterModelSchema = z.object({
  repo: z.string(),                      // "moonshotai/Kimi-K2-Thinking"
  label: z.string(),
  params: z.number().min(0),             // total parameters
  downloadBytes: z.number().min(0),      // weights as published (INT4 routed experts + bf16)
  pullCommand: z.string(),               // `karakoram pull …`
  modelsDir: z.string(),                 // where the command puts it
  diskFreeBytes: z.number().min(0).nullable(),   // free space there (null: unknown)
  plan: MemoryPlanSchema,
});
export type StarterModel = z.infer<typeof StarterModelSchema>;

export const EngineStateSchema = z.enum(['idle', 'loading', 'ready', 'crashed', 'restarting', 'error']);
export type EngineState = z.infer<typeof EngineStateSchema>;

export const EngineStatusSchema = z.object({
  state: EngineStateSchema,
  // thinkingSwitch: the loaded model's template has the thinking / instant switch (K2.5 / K2.6).
  model: z.object({ dir: z.string(), name: z.string(), label: z.string(), thinkingSwitch: z.boolean().optional() }).nullable(),
  progress: z.object({ stage: z.string(), fraction: z.number().min(0).max(1) }).nullable(),
  error: z.string().nullable(),          // why it crashed / failed
  pid: z.number().int().nullable(),      // engine process id (tests kill it to check recovery)
  restarts: z.number().int().min(0),
  backend: z.string().nullable(),
  /** Which backend the loaded model runs on and why, e.g. "CPU: no CUDA driver found (libcuda.so.1 not loadable)". */
  backendWhy: z.string().nullable(),
});
export type EngineStatus = z.infer<typeof EngineStatusSchema>;

/** The model panel's expert heat map: routing counts (decayed) per MoE layer x routed expert, and
 *  which experts sit on the GPU. Empty layers on the CPU backend, which records no routing. */
export const ExpertHeatSchema = z.object({
  backend: z.string().nullable(),
  layers: z.array(z.object({ counts: z.array(z.number().min(0)), onGpu: z.array(z.boolean()) })),
});
export type ExpertHeat = z.infer<typeof ExpertHeatSchema>;

// Context meter --------------------------------------------------------------------------------

/** The next prompt's exact token count by part, against the window and the KV memory it needs. */
export const ContextCountSchema = z.object({
  totalTokens: z.number().int().min(0),
  parts: z.object({
    system: z.number().int(), tools: z.number().int(), history: z.number().int(),
    message: z.number().int(), attachments: z.number().int(),
  }),
  attachments: z.array(z.object({ name: z.string(), tokens: z.number().int().min(0) })),
  historyTurns: z.number().int().min(0),     // messages before this one on the branch
  contextLength: z.number().int().min(0),    // the window generation uses now
  maxPosition: z.number().int().min(0),      // the model's own limit
  answerReserve: z.number().int().min(0),    // tokens kept free for the answer
  kvBytesPerToken: z.number().min(0),
  kvBytesNeeded: z.number().min(0),          // KV memory for the prompt and the reserve
  fits: z.boolean(),
  /** A context setting that would fit it and that the model and free memory allow; else null. */
  raiseContextTo: z.number().int().nullable(),
});
export type ContextCount = z.infer<typeof ContextCountSchema>;

const DocumentPartSchema = z.object({ name: z.string().min(1).max(500), text: z.string().max(10_000_000) });

// ---------------------------------------------------------------------------------------------
// Requests: name → { params, result }. One preload function per entry.

const empty = z.object({});
const convRef = z.object({ conversationId: Id });

export const requests = {
  listConversations: { params: empty, result: z.array(ConversationSummarySchema) },
  searchConversations: {
    params: z.object({ query: z.string().min(1).max(1000) }),
    result: z.array(SearchHitSchema),
  },
  getConversation: { params: convRef, result: ConversationSchema },
  createConversation: {
    params: z.object({
      title: z.string().max(500).optional(),
      tools: z.array(z.string()).optional(),   // names; default settings.defaultTools
      systemPrompt: z.string().max(100_000).nullable().optional(),
    }),
    result: ConversationSchema,
  },
  renameConversation: {
    params: z.object({ conversationId: Id, title: z.string().min(1).max(500) }),
    result: ConversationSummarySchema,
  },
  deleteConversation: { params: convRef, result: z.object({ deleted: z.boolean() }) },
  setConversationTools: {
    params: z.object({ conversationId: Id, tools: z.array(z.string()) }),
    result: ConversationSchema,
  },
  /** This conversation's engine: 'local', a remote's id, or null to follow the default. */
  setConversationProvider: {
    params: z.object({ conversationId: Id, provider: z.string().min(1).max(100).nullable() }),
    result: ConversationSchema,
  },
  exportConversation: {
    params: z.object({ conversationId: Id, format: z.enum(['md', 'json']) }),
    result: z.object({ filename: z.string(), mimeType: z.string(), data: z.string() }),
  },
  importConversation: {
    params: z.object({ data: z.string().min(1).max(50_000_000), format: z.enum(['md', 'json']).optional() }),
    result: ConversationSchema,
  },
  /** Starts a generation and returns at once; events stream on 'generation'. */
  sendMessage: {
    params: z.object({
      conversationId: Id,
      content: z.string().min(1).max(10_000_000),
      options: z.object({
        tools: z.array(z.string()).optional(),   // replaces the conversation's declared tools
        sampling: SamplingSchema.optional(),
      }).optional(),
    }),
    result: z.object({ userMessageId: Id, assistantMessageId: Id }),
  },
  /** A file's text, extracted in the core (PDF, DOCX, HTML, Markdown, text, source); the bytes
   *  travel base64. A scan, an encrypted PDF or a damaged file is a bad_request saying so. */
  extractAttachment: {
    params: z.object({ name: z.string().min(1).max(500), data: z.string().min(1).max(MAX_ATTACHMENT_BASE64) }),
    result: AttachmentSchema,
  },
  /** The exact token count of the next prompt (conversation null: a new one) with the
   *  attachments, and whether it fits. */
  measureContext: {
    params: z.object({
      conversationId: Id.nullable(),
      question: z.string().max(10_000_000),
      attachments: z.array(DocumentPartSchema).max(64).default([]),
    }),
    result: ContextCountSchema,
  },
  /** The conversation is no longer shown: its prompt's KV is saved as a snapshot, so reopening
   *  it (also after a restart) does not read its documents again. */
  leaveConversation: { params: convRef, result: z.object({ savedTokens: z.number().int().min(0) }) },
  stopGeneration: { params: convRef, result: z.object({ stopped: z.boolean() }) },
  /** New assistant sibling of messageId (an assistant message), generated fresh. */
  regenerate: {
    params: z.object({ messageId: Id, sampling: SamplingSchema.optional() }),
    result: z.object({ assistantMessageId: Id }),
  },
  /** New user sibling of messageId (a user message) with newContent, then a fresh answer. */
  editAndBranch: {
    params: z.object({ messageId: Id, newContent: z.string().min(1).max(10_000_000) }),
    result: z.object({ userMessageId: Id, assistantMessageId: Id }),
  },
  /**
   * Removes messageId and everything after it on every branch below it; the conversation then
   * ends at its parent (so a message the model refused, e.g. one too long for the context, no
   * longer blocks the conversation).
   */
  deleteMessage: { params: z.object({ messageId: Id }), result: ConversationSchema },
  /** Show the branch through messageId (its newest leaf becomes the head). */
  switchBranch: { params: z.object({ messageId: Id }), result: ConversationSchema },
  listTools: { params: empty, result: z.array(ToolInfoSchema) },
  /** The user's answer to a call waiting for approval; decided: false when nothing waits. */
  decideToolCall: {
    params: z.object({ conversationId: Id, callId: z.string().min(1).max(500), kind: ApprovalDecisionKindSchema, message: z.string().max(10_000).optional() }),
    result: z.object({ decided: z.boolean() }),
  },
  /** Calls waiting for approval (a reloaded page shows their cards again). */
  listApprovals: { params: z.object({ conversationId: Id.optional() }), result: z.array(ApprovalRequestSchema) },
  listPolicies: { params: empty, result: z.array(PolicySchema) },
  /** A standing policy for every tool of one server (the Tools page's per-server allow). */
  allowServer: { params: z.object({ server: z.string().min(1).max(100) }), result: z.array(PolicySchema) },
  revokePolicy: {
    params: z.object({ scope: z.enum(['tool', 'server']), server: z.string().min(1), tool: z.string().nullable() }),
    result: z.object({ revoked: z.boolean() }),
  },
  /** Folders read_file / list_dir may read (replaced as a whole; each must exist). */
  getGrantedFolders: { params: empty, result: z.array(z.string()) },
  setGrantedFolders: { params: z.object({ folders: z.array(z.string().min(1).max(4096)).max(100) }), result: z.array(z.string()) },
  listMcpServers: { params: empty, result: z.array(McpServerViewSchema) },
  /** Adds a server or replaces the one of the same name (started when enabled). */
  saveMcpServer: { params: z.object({ config: McpServerConfigSchema }), result: McpServerViewSchema },
  deleteMcpServer: { params: z.object({ name: z.string().min(1).max(100) }), result: z.object({ deleted: z.boolean() }) },
  setMcpServerEnabled: { params: z.object({ name: z.string().min(1).max(100), enabled: z.boolean() }), result: McpServerViewSchema },
  restartMcpServer: { params: z.object({ name: z.string().min(1).max(100) }), result: McpServerViewSchema },
  getMcpLog: { params: z.object({ name: z.string().min(1).max(100) }), result: z.array(McpLogLineSchema) },
  /** Adds the servers of an mcp.json (`mcpServers` shape), disabled until enabled. */
  importMcpJson: { params: z.object({ text: z.string().min(1).max(1_000_000) }), result: z.array(McpServerViewSchema) },
  getSettings: { params: empty, result: SettingsViewSchema },
  updateSettings: { params: SettingsPatchSchema, result: SettingsViewSchema },
  getModelStatus: { params: empty, result: EngineStatusSchema },
  getExpertHeat: { params: empty, result: ExpertHeatSchema },
  listLocalModels: { params: empty, result: z.array(LocalModelSchema) },
  getStarterModel: { params: empty, result: StarterModelSchema },
  inspectModel: { params: z.object({ dir: z.string().min(1).max(4096) }), result: ModelInspectionSchema },
  /** Resolves when the model is loaded (progress arrives as 'engineStatus' events). */
  loadModel: { params: z.object({ dir: z.string().min(1).max(4096) }), result: EngineStatusSchema },
  restartEngine: { params: empty, result: EngineStatusSchema },
  /** Model library (common/library.ts): search the hub, a repo's files, variants and fit plan. */
  searchHub: { params: z.object({ query: z.string().max(200) }), result: z.array(HubHitSchema) },
  getRepo: { params: z.object({ repo: RepoId, revision: Revision.optional() }), result: RepoViewSchema },
  /** The models on disk (hub cache + added folders) and where downloads go. */
  getLibrary: { params: empty, result: LibraryViewSchema },
  setLibraryFolders: { params: z.object({ folders: z.array(z.string().min(1).max(4096)).max(100) }), result: LibraryViewSchema },
  /** The Hugging Face token for gated repos (HF_TOKEN); null removes it. Kept in the core only. */
  setHubToken: { params: z.object({ token: z.string().min(1).max(500).nullable() }), result: LibraryViewSchema },
  listDownloads: { params: empty, result: z.array(DownloadViewSchema) },
  /** Starts (or resumes) downloading a repo into the hub cache; progress on 'downloads' events. */
  startDownload: { params: z.object({ repo: RepoId, revision: Revision.optional() }), result: DownloadViewSchema },
  pauseDownload: { params: z.object({ id: Id }), result: DownloadViewSchema },
  resumeDownload: { params: z.object({ id: Id }), result: DownloadViewSchema },
  /** Stops it and removes its partial files (finished files stay for another pull to use). */
  cancelDownload: { params: z.object({ id: Id }), result: DownloadViewSchema },
  /** Re-reads a finished download's files against their sha256; damaged ones are removed. */
  verifyDownload: { params: z.object({ id: Id }), result: VerifyResultSchema },
  /** Converts a complete block-FP8 model of the library to INT4 once (kk_convert); resolves with
   *  the new folder when done (progress on 'conversion' events). */
  convertModel: { params: z.object({ dir: z.string().min(1).max(4096) }), result: z.object({ dir: z.string() }) },
  /** Removes the download and the model's files from the cache. */
  deleteDownload: { params: z.object({ id: Id }), result: z.object({ deleted: z.boolean() }) },
  /** Remote OpenAI-compatible engines (vLLM, SGLang, ...) and which provider generates. */
  listRemotes: { params: empty, result: ProvidersViewSchema },
  /** Configuration-time check (GET /v1/models); with `id` and no apiKey, the stored key is used. */
  checkRemote: { params: RemoteEndpointInputSchema, result: RemoteCheckSchema },
  /** Adds or changes a remote after checking it; a failed check is a bad_request naming the fault. */
  saveRemote: { params: RemoteEndpointInputSchema, result: RemoteEndpointViewSchema },
  deleteRemote: { params: z.object({ id: Id }), result: z.object({ deleted: z.boolean() }) },
  /** Which provider new generations use: a remote's id, or null for the local engine. */
  selectProvider: { params: z.object({ id: Id.nullable() }), result: ProvidersViewSchema },
} as const;

export type RequestName = keyof typeof requests;
export const requestNames = Object.keys(requests) as RequestName[];
export type RequestParams<N extends RequestName> = z.input<(typeof requests)[N]['params']>;
export type RequestResult<N extends RequestName> = z.infer<(typeof requests)[N]['result']>;

// ---------------------------------------------------------------------------------------------
// Events: name → payload schema.

const genBase = { conversationId: Id, messageId: Id };

export const GenerationEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), ...genBase, parentId: Id.nullable(), model: z.string().nullable() }),
  /** Prompt processing: `done` of `total` prompt tokens, as the engine reports them after each
   *  prefill chunk; done === total when the first token is about to come. */
  z.object({ type: z.literal('prompt_progress'), ...genBase, done: z.number().int(), total: z.number().int() }),
  z.object({ type: z.literal('reasoning'), ...genBase, delta: z.string() }),
  /** Reasoning ended (the answer or a tool call begins): the panel collapses. */
  z.object({ type: z.literal('reasoning_end'), ...genBase, reasoningMs: z.number(), reasoningTokens: z.number().int() }),
  z.object({ type: z.literal('content'), ...genBase, delta: z.string() }),
  z.object({ type: z.literal('tool_call_begin'), ...genBase, index: z.number().int(), id: z.string(), name: z.string() }),
  z.object({ type: z.literal('tool_call_delta'), ...genBase, index: z.number().int(), delta: z.string() }),
  z.object({ type: z.literal('tool_call_end'), ...genBase, index: z.number().int(), call: ToolCallRecordSchema }),
  /** A tool call changed state (running → done/error) — the card updates. */
  z.object({ type: z.literal('tool_status'), ...genBase, call: ToolCallRecordSchema }),
  /** The tool's result was stored as a tool message (part of the same turn). */
  z.object({ type: z.literal('tool_message'), conversationId: Id, message: MessageSchema }),
  /** Malformed output kept visible (bad tool-call JSON, unknown tool...). */
  z.object({ type: z.literal('error'), ...genBase, message: z.string(), raw: z.string() }),
  /** Live performance strip while decoding (about every 250 ms). */
  z.object({ type: z.literal('stats'), ...genBase, completionTokens: z.number().int(), tokensPerSecond: z.number(), contextUsed: z.number().int(), contextLength: z.number().int() }),
  z.object({
    type: z.literal('finish'), ...genBase,
    reason: FinishReasonSchema, timings: TimingsSchema.nullable(), error: z.string().nullable(),
    /** When the turn continues after tool results, the next assistant message's id. */
    continuedBy: Id.nullable(),
    /** The message as stored now that it is finished (ids, siblings, timings): the renderer
     *  shows this one and need not fetch the conversation again. */
    message: MessageSchema,
  }),
]);
export type GenerationEvent = z.infer<typeof GenerationEventSchema>;

export const ConversationEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('upserted'), conversation: ConversationSummarySchema }),
  z.object({ type: z.literal('deleted'), conversationId: Id }),
]);
export type ConversationEvent = z.infer<typeof ConversationEventSchema>;

/** Approval cards: a call now waits for a decision; a decision was made (by anyone, anywhere). */
export const ApprovalEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('requested'), request: ApprovalRequestSchema }),
  z.object({
    type: z.literal('decided'), conversationId: Id, messageId: Id, callId: z.string(),
    allowed: z.boolean(), by: z.enum(['policy', 'conversation', 'user', 'stopped']), message: z.string().nullable(),
  }),
]);
export type ApprovalEvent = z.infer<typeof ApprovalEventSchema>;

export const events = {
  generation: GenerationEventSchema,
  approval: ApprovalEventSchema,
  /** The MCP servers changed (state, tools, configuration). */
  mcpServers: z.array(McpServerViewSchema),
  engineStatus: EngineStatusSchema,
  conversation: ConversationEventSchema,
  providers: ProvidersViewSchema,
  /** Every download, about 4 times a second while one runs, and on each change of state. */
  downloads: z.array(DownloadViewSchema),
  conversion: ConversionEventSchema,
} as const;

export type EventName = keyof typeof events;
export const eventNames = Object.keys(events) as EventName[];
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;

// ---------------------------------------------------------------------------------------------
// The API the renderer sees (window.karakoram in Electron; createWsClient in web mode).

export type KarakoramApi = {
  [N in RequestName]: (params: RequestParams<N>) => Promise<RequestResult<N>>;
} & {
  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, cb: (payload: EventPayload<E>) => void): () => void;
};

// ---------------------------------------------------------------------------------------------
// Wire envelopes (WebSocket frames are JSON text of these; IPC carries the same objects).

export const ErrorCodeSchema = z.enum(['bad_request', 'not_found', 'busy', 'engine', 'internal', 'forbidden']);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const WireRequestSchema = z.object({
  kind: z.literal('request'),
  id: z.number().int().min(0),
  method: z.string().max(100),
  params: z.unknown(),
});
export type WireRequest = z.infer<typeof WireRequestSchema>;

export const WireResponseSchema = z.discriminatedUnion('ok', [
  z.object({ kind: z.literal('response'), id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({
    kind: z.literal('response'), id: z.number().int(), ok: z.literal(false),
    error: z.object({ code: ErrorCodeSchema, message: z.string() }),
  }),
]);
export type WireResponse = z.infer<typeof WireResponseSchema>;

export const WireEventSchema = z.object({ kind: z.literal('event'), event: z.string(), payload: z.unknown() });
export type WireEvent = z.infer<typeof WireEventSchema>;

/** Electron IPC channel names (preload ↔ main). */
export const IPC_REQUEST_CHANNEL = 'karakoram:request';
export const IPC_EVENT_CHANNEL = 'karakoram:event';
/** WebSocket path of `karakoram serve`. */
export const WS_PATH = '/ws';

export function isRequestName(s: string): s is RequestName {
  return Object.prototype.hasOwnProperty.call(requests, s);
}
export function isEventName(s: string): s is EventName {
  return Object.prototype.hasOwnProperty.call(events, s);
}

/** An error carried across the wire with its code. */
export class ContractError extends Error {
  constructor(public readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'ContractError';
  }
}
