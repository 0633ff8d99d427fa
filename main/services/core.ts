// core.ts — the core behind the contract: store + engine host + model/chat services, and one
// dispatcher that validates a request's params against common/contract.ts, runs it and returns
// a wire response. Electron IPC and the WebSocket server both call `handle`.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ZodError } from 'zod';
import {
  ContractError, isRequestName, McpServerConfigSchema, requests, SettingsSchema, type ErrorCode, type RequestName, type RequestParams, type RequestResult,
  type SettingsView, type WireResponse,
} from '../../common/contract.ts';
import { EngineHost } from '../host/supervisor.ts';
import type { EngineSpawner } from '../host/spawn.ts';
import { NotFoundError, openStore, type Store } from '../store/index.ts';
import { ChatService, DEFAULT_TITLE } from './chat-service.ts';
import { EventBus } from './events.ts';
import { DEFAULT_CONTEXT_LENGTH, DEMO_LABEL_PREFIX, inspectModel } from './model-inspect.ts';
import { DEMO_MODEL_DIR, ModelService } from './model-service.ts';
import { starterModel } from './starter-model.ts';
import { exportConversation, importConversation } from './transfer.ts';
import { ToolService } from './tools/tool-service.ts';
import { ApprovalBroker } from './tools/approval.ts';
import { SqlitePolicyStore } from '../store/tool-policy-store.ts';
import { ProviderService } from './provider-service.ts';
import { AttachmentError, extractAttachment } from './attach/extract.ts';
import { KvSnapshots } from './kv-snapshots.ts';
import { RemoteStore } from '../store/remote-store.ts';
import { defaultSampling } from '../text/index.ts';
import { hubCacheDir } from '../models/hf-cache.ts';
import { DownloadService } from './download-service.ts';
import { LibraryService } from './library-service.ts';

/** Bytes in one MB/s of the downloadLimitMBps setting. */
const MB = 2 ** 20;

/** Settings key remembering the last model loaded, so it loads again on the next start. */
const LAST_MODEL_KEY = 'lastModel';
/** Folder (under the data directory) of the conversations' KV snapshots. */
const SNAPSHOT_DIR = 'kv-snapshots';

export interface CoreOptions {
  dataDir: string;
  /** Model to load at start; default: the last one loaded, else the bundled demo model. */
  modelDir?: string;
  /** Don't load any model at start (tests of the request layer). */
  noModel?: boolean;
  spawner?: EngineSpawner;
  autoRestart?: boolean;
  /** The hub cache downloads go to (default HF_HUB_CACHE / HF_HOME/hub). */
  hubCacheDir?: string;
  /** Validate every result against the contract too (tests; default from KARAKORAM_CHECK_CONTRACT). */
  checkResults?: boolean;
  /** Prompt tokens the engine reads per scheduler step (serve --prefill-chunk; default: the engine's). */
  prefillChunk?: number;
  /** Sets the context-length setting before the start-up load (serve --context-length; tests that
   *  depend on a window fix it this way). Kept in the settings, as if set on the Settings page. */
  contextLength?: number;
}

type Handlers = { [N in RequestName]: (p: RequestParams<N>) => Promise<RequestResult<N>> | RequestResult<N> };

export class Core {
  readonly bus = new EventBus();
  readonly store: Store;
  readonly host: EngineHost;
  readonly models: ModelService;
  readonly chat: ChatService;
  readonly tools: ToolService;
  readonly approvals: ApprovalBroker;
  readonly providers: ProviderService;
  readonly snapshots: KvSnapshots;
  readonly library: LibraryService;
  readonly downloads: DownloadService;
  private readonly handlers: Handlers;

  constructor(readonly options: CoreOptions) {
    if (options.contextLength !== undefined && !SettingsSchema.shape.contextLength.safeParse(options.contextLength).success) {
      throw new Error(`the context length must be a whole number of tokens from 256 to 1,048,576, got ${options.contextLength}`);
    }
    this.store = openStore(options.dataDir);
    this.host = new EngineHost({ spawner: options.spawner, autoRestart: options.autoRestart });
    if (options.contextLength !== undefined) this.store.settings.update({ contextLength: options.contextLength });
    const s = this.store.settings.get();
    this.models = new ModelService(this.host, this.bus, {
      threads: s.threads, contextLength: s.contextLength, prefillChunk: options.prefillChunk, backend: s.backend, gpuExpertBudgetGiB: s.gpuExpertBudgetGiB,
    });
    this.providers = new ProviderService(new RemoteStore(this.store.db), this.bus);
    this.snapshots = new KvSnapshots(join(options.dataDir, SNAPSHOT_DIR), this.host);
    this.tools = new ToolService(this.store.settings);
    this.tools.onChange(() => this.bus.emit('mcpServers', this.tools.views()));
    this.approvals = new ApprovalBroker(new SqlitePolicyStore(this.store.db));
    this.chat = new ChatService(this.store.chats, this.store.settings, this.models, this.tools, this.approvals, this.bus, this.providers, this.snapshots);
    const cacheDir = options.hubCacheDir ?? hubCacheDir();
    this.library = new LibraryService(this.store.settings, cacheDir, () => this.models.loaded?.dir ?? null, this.bus);
    this.downloads = new DownloadService(this.store.downloads, this.bus, cacheDir,
      () => ({ endpoint: this.library.endpoint(), token: this.library.token() }), s.downloadLimitMBps * MB);
    this.handlers = this.makeHandlers();
  }

  /** Loads the start-up model in the background; failures show in the engine status. */
  start(): void {
    this.tools.start();
    this.downloads.resumeInterrupted();
    if (this.options.noModel) return;
    const last = this.lastModel();
    // A remembered model that has since been moved or deleted falls back to the bundled demo.
    const dir = this.options.modelDir ?? (last && existsSync(join(last, 'config.json')) ? last : DEMO_MODEL_DIR);
    this.models.load(dir).catch((e) => {
      console.error(`karakoram: could not load ${dir}: ${(e as Error).message}`);
    });
  }

  private lastModel(): string | null {
    const dir = this.store.settings.readState(LAST_MODEL_KEY);
    return typeof dir === 'string' ? dir : null;
  }

  private rememberModel(dir: string): void {
    this.store.settings.writeState(LAST_MODEL_KEY, dir);
  }

  /**
   * Tools a new conversation declares: the settings' defaults, plus the demo tools while the demo
   * model is loaded (or loading) unless the user turned them off — a first run shows the demo
   * thinking, calling a tool and answering from its result.
   */
  private toolsForNewConversation(): string[] {
    const s = this.store.settings.get();
    const names = s.defaultTools.filter((n) => this.tools.has(n));
    const m = this.models.status().model;
    const demoLoaded = !!m && (m.dir === DEMO_MODEL_DIR || m.label.startsWith(DEMO_LABEL_PREFIX));
    if (!demoLoaded || !s.demoTools) return names;
    return [...new Set([...names, ...this.tools.list().filter((t) => t.source === 'builtin-demo').map((t) => t.spec.function.name)])];
  }

  private settingsView(): SettingsView {
    const d = this.models.model?.text.defaults;
    return {
      settings: this.store.settings.get(),
      modelDefaults: {
        sampling: d ? defaultSampling(d) : {},
        contextLength: this.models.model?.defaultContext.tokens ?? DEFAULT_CONTEXT_LENGTH,
      },
    };
  }

  private makeHandlers(): Handlers {
    const chats = this.store.chats;
    const publish = (id: string) => this.bus.emit('conversation', { type: 'upserted', conversation: { ...chats.summary(id), generating: this.chat.isGenerating(id) } });
    return {
      listConversations: () => chats.listConversations().map((c) => ({ ...c, generating: this.chat.isGenerating(c.id) })),
      searchConversations: ({ query }) => chats.search(query),
      getConversation: ({ conversationId }) => this.chat.getConversation(conversationId),
      createConversation: ({ title, tools, systemPrompt }) => {
        const names = this.chat.checkTools(tools ?? this.toolsForNewConversation());
        const id = chats.createConversation({ title: title?.trim() || DEFAULT_TITLE, tools: names, systemPrompt: systemPrompt ?? null });
        publish(id);
        return this.chat.getConversation(id);
      },
      renameConversation: ({ conversationId, title }) => {
        chats.renameConversation(conversationId, title.trim() || DEFAULT_TITLE);
        publish(conversationId);
        return { ...chats.summary(conversationId), generating: this.chat.isGenerating(conversationId) };
      },
      deleteConversation: async ({ conversationId }) => {
        await this.chat.stop(conversationId);
        const deleted = chats.deleteConversation(conversationId);
        this.snapshots.forget(conversationId);
        if (deleted) this.bus.emit('conversation', { type: 'deleted', conversationId });
        return { deleted };
      },
      setConversationProvider: ({ conversationId, provider }) => {
        chats.setProvider(conversationId, this.providers.checkChoice(provider));
        publish(conversationId);
        return this.chat.getConversation(conversationId);
      },
      setConversationTools: ({ conversationId, tools }) => {
        chats.setTools(conversationId, this.chat.checkTools(tools));
        publish(conversationId);
        return this.chat.getConversation(conversationId);
      },
      exportConversation: ({ conversationId, format }) => exportConversation(chats, conversationId, format),
      importConversation: ({ data, format }) => {
        const id = importConversation(chats, data, format);
        publish(id);
        return this.chat.getConversation(id);
      },
      sendMessage: ({ conversationId, content, options }) => this.chat.sendMessage(conversationId, content, options ?? {}),
      extractAttachment: async ({ name, data }) => {
        try { return await extractAttachment(name, Buffer.from(data, 'base64')); } catch (e) {
          if (e instanceof AttachmentError) throw new ContractError('bad_request', e.message);
          throw e;
        }
      },
      measureContext: ({ conversationId, question, attachments }) =>
        this.chat.measureContext(conversationId, question, attachments ?? [], this.toolsForNewConversation()),
      leaveConversation: async ({ conversationId }) => {
        await this.chat.idle(conversationId);
        return { savedTokens: await this.snapshots.save(conversationId) };
      },
      stopGeneration: async ({ conversationId }) => ({ stopped: await this.chat.stop(conversationId) }),
      regenerate: ({ messageId, sampling }) => this.chat.regenerate(messageId, sampling),
      editAndBranch: ({ messageId, newContent }) => this.chat.editAndBranch(messageId, newContent),
      switchBranch: ({ messageId }) => this.chat.switchBranch(messageId),
      deleteMessage: ({ messageId }) => {
        const m = chats.getMessage(messageId);
        if (this.chat.isGenerating(m.conversationId)) throw new ContractError('busy', 'this conversation is still generating: stop it first');
        chats.deleteMessage(messageId);
        publish(m.conversationId);
        return this.chat.getConversation(m.conversationId);
      },
      listTools: () => this.tools.list(),
      decideToolCall: ({ conversationId, callId, kind, message }) => ({ decided: this.approvals.decide(conversationId, callId, { kind, message }) }),
      listApprovals: ({ conversationId }) => this.approvals.pending(conversationId).flatMap((r) => (r.messageId ? [{ ...r, messageId: r.messageId }] : [])),
      listPolicies: () => this.approvals.policies(),
      allowServer: ({ server }) => this.approvals.allowServer(server),
      revokePolicy: (p) => ({ revoked: this.approvals.revoke(p) }),
      getGrantedFolders: () => this.tools.grantedFolders(),
      setGrantedFolders: ({ folders }) => this.tools.setGrantedFolders(folders),
      listMcpServers: () => this.tools.views(),
      saveMcpServer: ({ config }) => this.tools.save(McpServerConfigSchema.parse(config)),
      deleteMcpServer: async ({ name }) => ({ deleted: await this.tools.remove(name) }),
      setMcpServerEnabled: ({ name, enabled }) => this.tools.setEnabled(name, enabled),
      restartMcpServer: ({ name }) => this.tools.restart(name),
      getMcpLog: ({ name }) => this.tools.log(name),
      importMcpJson: ({ text }) => this.tools.importJson(text),
      getSettings: () => this.settingsView(),
      updateSettings: (patch) => {
        if (patch.defaultTools) this.chat.checkTools(patch.defaultTools);
        const before = this.store.settings.get();
        const s = this.store.settings.update(patch);
        this.models.setOptions({ threads: s.threads, contextLength: s.contextLength, backend: s.backend, gpuExpertBudgetGiB: s.gpuExpertBudgetGiB });
        this.downloads.setLimit(s.downloadLimitMBps * MB);
        // Threads, context size, backend and GPU budget are fixed at load: reload when they change.
        const loaded = this.models.loaded;
        const atLoad = ['threads', 'contextLength', 'backend', 'gpuExpertBudgetGiB'] as const;
        if (loaded && atLoad.some((k) => s[k] !== before[k])) {
          void (async () => {
            await Promise.all(chats.listConversations().map((c) => this.chat.stop(c.id)));
            await this.models.load(loaded.dir);
          })().catch((e) => console.error(`karakoram: reload after a settings change failed: ${(e as Error).message}`));
        }
        return this.settingsView();
      },
      getModelStatus: () => this.models.status(),
      getExpertHeat: () => this.models.expertHeat(),
      listLocalModels: () => this.models.listLocal(),
      getStarterModel: () => starterModel(this.store.settings.get().contextLength),
      inspectModel: ({ dir }) => {
        const loaded = this.models.model;
        const loadedWith = loaded && loaded.dir === resolve(dir) ? loaded.context : undefined;
        try { return inspectModel(dir, this.store.settings.get().contextLength, loadedWith); } catch (e) { throw new ContractError('bad_request', (e as Error).message); }
      },
      loadModel: async ({ dir }) => {
        await Promise.all([...chats.listConversations()].map((c) => this.chat.stop(c.id)));
        const previous = this.models.model?.dir ?? null;
        const loading = this.models.load(dir);
        try {
          const m = await loading;
          this.rememberModel(m.dir);
        } catch (e) {
          // Go back to the model that worked, so a bad directory does not leave the app without
          // one — unless another load has been asked for meanwhile.
          const h = this.host.status();
          if (this.models.isLatestLoad(loading.seq) && previous && previous !== dir && !(h.state === 'ready' && h.modelDir === previous)) {
            this.models.load(previous).catch((err) => console.error(`karakoram: could not reload ${previous}: ${(err as Error).message}`));
          }
          throw new ContractError('engine', (e as Error).message);
        }
        return this.models.status();
      },
      restartEngine: () => this.models.restart(),
      searchHub: ({ query }) => this.library.search(query),
      getRepo: ({ repo, revision }) => this.library.repo(repo, revision),
      getLibrary: () => this.library.view(),
      setLibraryFolders: ({ folders }) => this.library.setFolders(folders),
      setHubToken: ({ token }) => this.library.setToken(token),
      listDownloads: () => this.downloads.list(),
      startDownload: ({ repo, revision }) => this.downloads.start(repo, revision),
      pauseDownload: ({ id }) => this.downloads.pause(id),
      resumeDownload: ({ id }) => this.downloads.resume(id),
      cancelDownload: ({ id }) => this.downloads.cancel(id),
      verifyDownload: ({ id }) => this.downloads.verify(id),
      deleteDownload: async ({ id }) => ({ deleted: await this.downloads.delete(id) }),
      convertModel: ({ dir }) => this.library.convert(dir),
      listRemotes: () => this.providers.view(),
      checkRemote: (input) => this.providers.check(input),
      saveRemote: (input) => this.providers.save(input),
      deleteRemote: ({ id }) => ({ deleted: this.providers.delete(id) }),
      selectProvider: ({ id }) => this.providers.select(id),
    };
  }

  /** Validates and runs one request; never throws. */
  async handle(id: number, method: string, params: unknown): Promise<WireResponse> {
    const err = (code: ErrorCode, message: string): WireResponse => ({ kind: 'response', id, ok: false, error: { code, message } });
    if (!isRequestName(method)) return err('bad_request', `unknown method '${method}'`);
    const parsed = requests[method].params.safeParse(params ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return err('bad_request', `${method}: invalid params${issue ? ` at '${issue.path.join('.') || '(root)'}': ${issue.message}` : ''}`);
    }
    try {
      const handler = this.handlers[method] as (p: unknown) => unknown;
      const result = await handler(parsed.data);
      if (this.options.checkResults ?? process.env.KARAKORAM_CHECK_CONTRACT === '1') {
        const check = requests[method].result.safeParse(result);
        if (!check.success) {
          const issue = check.error.issues[0];
          return err('internal', `${method}: result breaks the contract at '${issue?.path.join('.')}': ${issue?.message}`);
        }
      }
      return { kind: 'response', id, ok: true, result };
    } catch (e) {
      if (e instanceof ContractError) return err(e.code, e.message);
      if (e instanceof NotFoundError) return err('not_found', e.message);
      if (e instanceof ZodError) return err('bad_request', e.message);
      console.error(`karakoram: ${method} failed`, e);
      return err('internal', (e as Error).message ?? String(e));
    }
  }

  async shutdown(): Promise<void> {
    await this.downloads.shutdown();
    await this.chat.stopAll();
    await this.snapshots.saveAll();
    await this.tools.shutdown();
    await this.host.shutdown();
    this.store.close();
  }
}
