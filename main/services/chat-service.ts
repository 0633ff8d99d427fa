// chat-service.ts — one turn of a conversation: render the branch with the text layer (tools
// declared per conversation), generate in the engine process, parse the ids as they stream into
// reasoning / content / tool calls, persist every token, and publish contract events. When the
// model calls tools, the agent loop runs them (tools/tool-round.ts: validated, approved, run
// under limits), stores each result as a tool message and generates again in a new assistant
// message (the same turn), until an answer, the step limit (settings.maxToolSteps), a stop or an
// error. Each round's prompt extends the last, so the engine's prefix cache prefills only the new
// tokens (timings.cachedTokens says how many came from the cache). Stop, regenerate and edit-and-branch work on the message tree.
// When a remote provider is selected (provider-service.ts), the branch goes to it as OpenAI
// messages instead (the remote applies its own template) and its parsed events are recorded the
// same way: the reasoning view, tool calls and history do not depend on where the model ran.
import type { ChatMessage, FinishReason, ToolSpec } from '../../common/chat-types.ts';
import {
  ContractError, type Conversation, type GenerationEvent, type Message, type MessageStatus, type Sampling,
  type Timings, type ToolCallRecord,
} from '../../common/contract.ts';
import type { DocumentPart } from '../../common/attachments.ts';
import type { ContextCount, SamplerSettings } from '../../common/contract.ts';
import type { GenerateResult, SamplingOptions } from '../engine/types.ts';
import { measureContext } from './context-meter.ts';
import type { KvSnapshots } from './kv-snapshots.ts';
import { EngineCrashedError } from '../host/supervisor.ts';
import type { ChatStore, SettingsStore } from '../store/index.ts';
import type { StreamWriter } from '../store/stream-writer.ts';
import { defaultSampling } from '../text/index.ts';
import { MessageRecorder } from './message-recorder.ts';
import type { EventBus } from './events.ts';
import type { LoadedModel, ModelService } from './model-service.ts';
import type { ApprovalBroker } from './tools/approval.ts';
import type { ToolCatalog } from './tools/tool-service.ts';
import { answerable, DEFAULT_ROUND_LIMITS, runToolRound, type ToolRoundLimits } from './tools/tool-round.ts';
import { DEMO_LABEL_PREFIX } from './model-inspect.ts';
import { DEMO_MODEL_DIR } from './model-service.ts';
import type { ProviderService } from './provider-service.ts';
import { ProviderError, type Provider, type ProviderResult, type ProviderSampling } from '../providers/types.ts';
import { NOTE_NO_USAGE } from '../providers/openai-remote.ts';

/** How long a request waits for an engine that is loading or restarting. */
const ENGINE_READY_TIMEOUT_MS = 180_000;
/** Completion budget when neither the request, the settings nor the model say. */
const DEFAULT_MAX_TOKENS = 4096;
/** Characters of the first user message used as a new conversation's title. */
const TITLE_CHARS = 60;
export const DEFAULT_TITLE = 'New chat';

interface Active { abort: AbortController; messageId: string; done: Promise<void> }

/** How one message's generation ended: what is stored on it and said in its finish event. */
interface Ending {
  status: MessageStatus;
  reason: FinishReason;
  error: string | null;
  timings: Timings | null;
  reasoning?: { reasoningMs?: number; reasoningTokens?: number };
  /** The next assistant message of the turn (after tool results). */
  continuedBy?: string;
  /** The finish event's reason where the turn ended otherwise than the message (stopped while tools ran). */
  turnReason?: FinishReason;
}

export class ChatService {
  private readonly active = new Map<string, Active>();

  constructor(
    private readonly chats: ChatStore,
    private readonly settings: SettingsStore,
    private readonly models: ModelService,
    private readonly tools: ToolCatalog,
    private readonly broker: ApprovalBroker,
    private readonly bus: EventBus,
    private readonly providers: ProviderService | null = null,
    private readonly snapshots: KvSnapshots | null = null,
    private readonly limits: ToolRoundLimits = DEFAULT_ROUND_LIMITS,
  ) {}

  /** The remote provider a conversation's generations use (its own choice, else the default), or
   *  null for the local engine. A new conversation (null) follows the default. */
  private remote(conversationId: string | null): Provider | null {
    if (!this.providers) return null;
    return this.providers.providerFor(conversationId === null ? null : this.chats.getConversation(conversationId).provider);
  }

  /** The label new messages carry: the remote's, or the loaded model's. */
  private modelLabel(conversationId: string): string | null { return this.remote(conversationId)?.label ?? this.models.model?.label ?? null; }

  isGenerating(conversationId: string): boolean { return this.active.has(conversationId); }

  /** Resolves when the conversation's current generation (if any) has fully ended. */
  async idle(conversationId: string): Promise<void> { await this.active.get(conversationId)?.done; }

  getConversation(id: string): Conversation {
    const c = this.chats.getConversation(id);
    return { ...c, generating: this.isGenerating(id) };
  }

  private publishConversation(id: string): void {
    if (!this.chats.hasConversation(id)) return;
    this.bus.emit('conversation', { type: 'upserted', conversation: { ...this.chats.summary(id), generating: this.isGenerating(id) } });
  }

  private ensureIdle(conversationId: string): void {
    if (this.isGenerating(conversationId)) throw new ContractError('busy', 'this conversation is still generating: stop it first');
  }

  // Verbs -------------------------------------------------------------------------------------

  sendMessage(conversationId: string, content: string, options: { tools?: string[]; sampling?: Sampling } = {}): { userMessageId: string; assistantMessageId: string } {
    const conv = this.chats.getConversation(conversationId);
    this.ensureIdle(conversationId);
    if (options.tools) this.chats.setTools(conversationId, this.checkTools(options.tools));
    if (conv.title === DEFAULT_TITLE && conv.messages.length === 0) {
      this.chats.renameConversation(conversationId, titleFrom(content));
    }
    const user = this.chats.addMessage({ conversationId, parentId: conv.headId, role: 'user', content });
    const asst = this.startAssistant(conversationId, user.id, options.sampling);
    return { userMessageId: user.id, assistantMessageId: asst };
  }

  regenerate(messageId: string, sampling?: Sampling): { assistantMessageId: string } {
    const m = this.chats.getMessage(messageId);
    if (m.role !== 'assistant') throw new ContractError('bad_request', 'only an assistant message can be regenerated');
    this.ensureIdle(m.conversationId);
    if (!m.parentId) throw new ContractError('bad_request', 'this message has nothing to answer');
    return { assistantMessageId: this.startAssistant(m.conversationId, m.parentId, sampling ?? m.sampling ?? undefined) };
  }

  editAndBranch(messageId: string, newContent: string): { userMessageId: string; assistantMessageId: string } {
    const m = this.chats.getMessage(messageId);
    if (m.role !== 'user') throw new ContractError('bad_request', 'only a user message can be edited');
    this.ensureIdle(m.conversationId);
    const user = this.chats.addMessage({ conversationId: m.conversationId, parentId: m.parentId, role: 'user', content: newContent });
    return { userMessageId: user.id, assistantMessageId: this.startAssistant(m.conversationId, user.id, undefined) };
  }

  switchBranch(messageId: string): Conversation {
    const m = this.chats.getMessage(messageId);
    this.ensureIdle(m.conversationId);
    this.chats.setHead(m.conversationId, this.chats.newestLeaf(messageId));
    this.publishConversation(m.conversationId);
    return this.getConversation(m.conversationId);
  }

  async stop(conversationId: string): Promise<boolean> {
    const a = this.active.get(conversationId);
    if (!a) return false;
    a.abort.abort();
    await a.done;
    return true;
  }

  /** Stops every generation (shutdown). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.active.keys()].map((id) => this.stop(id)));
  }

  checkTools(names: string[]): string[] {
    const unknown = names.filter((n) => !this.tools.has(n));
    if (unknown.length) throw new ContractError('bad_request', `unknown tool(s): ${unknown.join(', ')}`);
    return [...new Set(names)];
  }

  /** The context meter for the next message of a conversation (null: a new one declaring newTools). */
  measureContext(conversationId: string | null, question: string, docs: DocumentPart[], newTools: string[]): ContextCount {
    const model = this.models.model;
    if (this.remote(conversationId)) throw new ContractError('bad_request', 'the context meter counts with the local model; a remote engine counts on its side');
    if (!model) throw new ContractError('engine', 'no model is loaded: the tokens are counted with the loaded model');
    const conv = conversationId ? this.chats.getConversation(conversationId) : null;
    const chat = conv ? this.chatFor(conv.id, conv.headId) : this.branchChat(null, [], newTools.filter((n) => this.tools.has(n)));
    const info = this.models.engine.status().info;
    return measureContext({
      text: model.text, history: chat.messages, tools: chat.tools, question, docs,
      thinking: this.resolveSampling(undefined, null).thinking,
      contextLength: this.models.contextLength(), maxPosition: info?.maxPosition || model.maxPosition,
      kvBytesPerToken: info?.kvBytesPerToken ?? 0, kvBytesCapacity: (info?.kvBytesPerToken ?? 0) * this.models.contextLength(),
    });
  }

  // The turn ----------------------------------------------------------------------------------

  private startAssistant(conversationId: string, parentId: string, sampling: Sampling | undefined): string {
    const asst = this.chats.addMessage({
      conversationId, parentId, role: 'assistant', status: 'streaming', model: this.modelLabel(conversationId),
      sampling: this.resolveSampling(sampling, this.remote(conversationId)),
    });
    const abort = new AbortController();
    const entry: Active = { abort, messageId: asst.id, done: Promise.resolve() };
    this.active.set(conversationId, entry);
    entry.done = this.runTurn(conversationId, asst.id, sampling, abort.signal)
      .catch((e) => { console.error('karakoram: turn failed', e); })
      .finally(() => {
        if (this.active.get(conversationId) === entry) this.active.delete(conversationId);
        this.publishConversation(conversationId);
      });
    this.publishConversation(conversationId);
    return asst.id;
  }

  /** Request sampling over settings over the model's generation_config defaults. */
  private resolveSampling(req: Sampling | undefined, remote: Provider | null): Sampling {
    // A remote applies its own model's defaults; only what the user set goes with the request.
    if (remote) return { ...this.settings.get().sampling, ...(req ?? {}) };
    const d = this.models.model?.text.defaults;
    const base: Sampling = d ? { maxTokens: DEFAULT_MAX_TOKENS, ...defaultSampling(d) } : {};
    return { ...base, ...this.settings.get().sampling, ...(req ?? {}) };
  }

  private emit(ev: GenerationEvent): void { this.bus.emit('generation', ev); }

  private async runTurn(conversationId: string, firstMessageId: string, reqSampling: Sampling | undefined, signal: AbortSignal): Promise<void> {
    let messageId = firstMessageId;
    const maxSteps = this.settings.get().maxToolSteps;
    for (let round = 0; ; round++) {
      const next = await this.generateOne(conversationId, messageId, reqSampling, signal, round < maxSteps ? null : maxSteps);
      if (!next) return;
      this.active.get(conversationId)!.messageId = next;
      messageId = next;
    }
  }

  /** Builds the chat the template renders: the branch from the root to parentId. */
  private chatFor(conversationId: string, parentId: string | null): { messages: ChatMessage[]; tools: ToolSpec[]; toolNames: string[] } {
    const conv = this.chats.getConversation(conversationId);
    return this.branchChat(conv.systemPrompt, parentId ? this.chats.pathTo(parentId) : [], conv.tools);
  }

  private branchChat(systemPrompt: string | null, path: Message[], declared: string[]): { messages: ChatMessage[]; tools: ToolSpec[]; toolNames: string[] } {
    const system = systemPrompt ?? this.settings.get().systemPrompt;
    const messages: ChatMessage[] = system ? [{ role: 'system', content: system }] : [];
    for (const m of path) messages.push(...toChatMessages(m));
    const toolNames = declared.filter((n) => this.tools.has(n));
    return { messages, tools: this.tools.specs(toolNames), toolNames };
  }

  /**
   * Generates into messageId. Returns the id of the assistant message that continues the turn
   * after tool results, or null when the turn is over. The one place a message is finished:
   * stored, then announced with the stored message.
   */
  private async generateOne(conversationId: string, messageId: string, reqSampling: Sampling | undefined, signal: AbortSignal, stepLimit: number | null): Promise<string | null> {
    const base = { conversationId, messageId };
    const msg = this.chats.getMessage(messageId);
    const writer = this.chats.openStream(messageId);
    const remote = this.remote(conversationId);
    this.emit({ type: 'started', ...base, parentId: msg.parentId, model: remote?.label ?? this.models.model?.label ?? null });

    let end: Ending;
    try {
      end = await this.generateInto(msg, writer, remote, reqSampling, signal, stepLimit);
    } catch (e) {
      // Whatever broke, the message is finished with the reason and the conversation kept.
      console.error('karakoram: generation failed', e);
      end = { status: 'error', reason: 'error', error: (e as Error).message ?? String(e), timings: null };
    }
    writer.finish({
      ...end.reasoning, status: end.status, finishReason: end.reason, error: end.error, timings: end.timings,
      toolCalls: settleCalls(writer.toolCalls, end.status === 'error' ? end.error ?? 'not run' : end.status === 'stopped' ? 'stopped' : 'not run'),
    });
    const continuedBy = end.continuedBy ?? null;
    this.emit({
      type: 'finish', ...base, reason: end.turnReason ?? end.reason, timings: end.timings, error: end.error, continuedBy,
      message: this.chats.getMessage(messageId),
    });
    return continuedBy;
  }

  /** Renders, generates (here or on the remote) and runs the tools called; says how it ended. */
  private async generateInto(msg: Message, writer: StreamWriter, remote: Provider | null, reqSampling: Sampling | undefined, signal: AbortSignal, stepLimit: number | null): Promise<Ending> {
    const { conversationId, id: messageId } = msg;
    const base = { conversationId, messageId };
    const stopped: Ending = { status: 'stopped', reason: 'cancelled', error: null, timings: null };
    const failed = (error: string, reason: FinishReason = 'error'): Ending => ({ status: 'error', reason, error, timings: null });

    if (remote) {
      const { messages, tools } = this.chatFor(conversationId, msg.parentId!);
      const caps = remote.capabilities();
      const rec = new MessageRecorder(writer, null, base, 0, caps.maxContext ?? 0, (e) => this.emit(e));
      const s = this.resolveSampling(reqSampling, remote);
      const sampling: ProviderSampling = samplerOf(s);
      let reason: FinishReason = 'stop';
      let error: string | null = null;
      let result: ProviderResult | null = null;
      try {
        result = await remote.generate({ messages, tools, sampling, signal }, { output: (evs, n) => rec.pushEvents(evs, n) });
        reason = result.finishReason;
        rec.useProviderFigures(result.usage, result.notes);
      } catch (e) {
        reason = signal.aborted ? 'cancelled' : 'error';
        if (!signal.aborted) error = e instanceof ProviderError ? `${e.message.replace(/\.$/, '')}. The conversation is kept; regenerate to try again.` : (e as Error).message;
        // The usage chunk comes last: a broken stream reported none of the counts.
        rec.useProviderFigures({ promptTokens: null, completionTokens: null, cachedTokens: null }, [NOTE_NO_USAGE]);
      }
      return this.settle(conversationId, messageId, msg.sampling, remote.label, writer, rec, reason, error, null, signal, stepLimit);
    }

    let model: LoadedModel;
    // Waiting for a loading engine ends at once when the user stops. The listener goes when the
    // wait does: the turn's signal lives across every round of a long agent loop.
    let onAbort = () => {};
    try {
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new Error('stopped'));
        if (signal.aborted) onAbort(); else signal.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => { /* only raced */ });
      model = await Promise.race([this.models.ready(ENGINE_READY_TIMEOUT_MS), aborted]);
    } catch (e) {
      return signal.aborted ? stopped : failed((e as Error).message);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) return stopped;

    const { messages, tools, toolNames } = this.chatFor(conversationId, msg.parentId!);
    const sampling = this.resolveSampling(reqSampling, null);
    let prompt: { promptText: string; promptIds: number[]; startsInReasoning: boolean };
    try {
      prompt = model.text.encode(messages, tools, { thinking: sampling.thinking });
    } catch (e) {
      return failed(`could not render the prompt: ${(e as Error).message}`);
    }
    const contextLength = this.models.contextLength();
    const promptTokens = prompt.promptIds.length;
    if (promptTokens >= contextLength) {
      return failed(`the conversation (${promptTokens} tokens) does not fit the context window (${contextLength}); start a new one or raise the context length`, 'length');
    }
    const maxTokens = Math.min(sampling.maxTokens ?? DEFAULT_MAX_TOKENS, contextLength - promptTokens);
    const engineOptions: SamplingOptions = { ...samplerOf(sampling), maxTokens, stopIds: model.text.defaults.stopIds };

    const rec = new MessageRecorder(writer, model.text.parser(toolNames, { startInReasoning: prompt.startsInReasoning }), base, promptTokens, contextLength, (e) => this.emit(e));
    let engineReason: FinishReason = 'stop';
    let engineError: string | null = null;
    let result: GenerateResult | null = null;
    try {
      // Reopened (or after a restart): the conversation's snapshot into the prefix cache first.
      await this.snapshots?.restore(conversationId, prompt.promptIds);
      if (signal.aborted) return stopped;
      result = await this.models.engine.generate(prompt.promptIds, engineOptions, (ids) => rec.pushTokens(ids), signal,
        (done, total) => rec.prefillProgress(done, total));
      engineReason = result.finishReason;
      this.snapshots?.remember(conversationId, prompt.promptIds);
    } catch (e) {
      engineReason = signal.aborted ? 'cancelled' : 'error';
      if (!signal.aborted) {
        engineError = e instanceof EngineCrashedError ? `${e.message}. The engine is restarting; regenerate to try again.` : (e as Error).message;
      }
    }
    return this.settle(conversationId, messageId, msg.sampling, model.label, writer, rec, engineReason, engineError, result, signal, stepLimit);
  }

  /** Ends one generation whichever provider ran it: says how the message ends, runs the tool calls. */
  private async settle(conversationId: string, messageId: string, sampling: Sampling | null, label: string, writer: StreamWriter, rec: MessageRecorder,
    engineReason: FinishReason, engineError: string | null, result: GenerateResult | null, signal: AbortSignal, stepLimit: number | null): Promise<Ending> {
    const parsedReason = rec.finishParse(engineReason);
    const reason: FinishReason = engineError ? 'error' : parsedReason;
    const timings = rec.timings(result);
    const reasoning = rec.reasoningPatch();
    const parseError = rec.parseErrors.length ? rec.parseErrors.join('; ') : null;

    if (reason === 'cancelled') return { status: 'stopped', reason, error: null, timings, reasoning };
    if (reason === 'error') return { status: 'error', reason, error: engineError ?? parseError ?? 'generation failed', timings, reasoning };

    const runnable = answerable(writer.toolCalls);
    // The parser ends with 'stop' when every call it saw was malformed: those still get an
    // answer (the parse error), so the model can write them again.
    const wantsTools = runnable.length > 0 && (reason === 'tool_calls' || reason === 'stop');
    if (!wantsTools || stepLimit !== null) {
      const error = wantsTools && stepLimit !== null
        ? `stopped at the step limit: ${stepLimit} rounds of tool calls in this turn (raise it in Settings, up to 300)`
        : parseError;
      return { status: 'complete', reason, error, timings, reasoning };
    }

    const parentId = await this.runTools(conversationId, messageId, writer, signal);
    const ran: Ending = { status: 'complete', reason: 'tool_calls', error: parseError, timings, reasoning };
    // Stopped while the tools ran: the message keeps its calls and results, the turn ends.
    if (signal.aborted) return { ...ran, turnReason: 'cancelled' };
    const next = this.chats.addMessage({ conversationId, parentId, role: 'assistant', status: 'streaming', model: label, sampling });
    return { ...ran, continuedBy: next.id };
  }

  /** Whether the demo model is the one answering (the default demo policy applies to it only). */
  private demoModelLoaded(conversationId: string): boolean {
    if (this.remote(conversationId)) return false;
    const m = this.models.model;
    return !!m && (m.dir === DEMO_MODEL_DIR || m.label.startsWith(DEMO_LABEL_PREFIX));
  }

  /** One round of the agent loop; each answer becomes a tool message. Returns the last one's id. */
  private async runTools(conversationId: string, messageId: string, writer: StreamWriter, signal: AbortSignal): Promise<string> {
    const answers = await runToolRound({
      tools: this.tools, broker: this.broker, limits: this.limits,
      emitGeneration: (e) => this.emit(e), emitApproval: (e) => this.bus.emit('approval', e),
    }, {
      conversationId, messageId, calls: writer.toolCalls, setCall: (i, c) => writer.setToolCall(i, c), signal, demoModel: this.demoModelLoaded(conversationId),
    });
    let parentId = messageId;
    for (const a of answers) {
      const toolMsg = this.chats.addMessage({ conversationId, parentId, role: 'tool', content: a.result, toolCallId: a.call.id, toolName: a.call.name, status: 'complete' });
      this.emit({ type: 'tool_message', conversationId, message: toolMsg });
      parentId = toolMsg.id;
    }
    return parentId;
  }
}

/** The sampler's knobs of a message's sampling: `thinking` picked the prompt and goes no further. */
function samplerOf({ thinking: _thinking, ...knobs }: Sampling): SamplerSettings {
  return knobs;
}

/** Calls that never ran end as errors saying why (the one place tool calls are settled). */
function settleCalls(calls: ToolCallRecord[], why: string): ToolCallRecord[] {
  return calls.filter(Boolean).map((c) => (c.status === 'done' || c.status === 'error' || c.status === 'denied' ? c : { ...c, status: 'error' as const, error: c.error ?? why }));
}

export function titleFrom(content: string): string {
  const line = content.replace(/\s+/g, ' ').trim();
  return line.length > TITLE_CHARS ? `${line.slice(0, TITLE_CHARS - 1)}…` : line || DEFAULT_TITLE;
}

/** A stored message as the chat template sees it (OpenAI shapes). */
export function toChatMessages(m: Message): ChatMessage[] {
  switch (m.role) {
    case 'system': return [{ role: 'system', content: m.content }];
    case 'user': return [{ role: 'user', content: m.content }];
    case 'tool': return [{ role: 'tool', content: m.content, tool_call_id: m.toolCallId ?? '', name: m.toolName ?? '' }];
    case 'assistant': {
      // Only calls that were run (and so have a tool message answering them) are history.
      const calls = m.toolCalls.filter((c) => c && c.result !== null);
      return [{
        role: 'assistant', content: m.content,
        ...(m.reasoning ? { reasoning_content: m.reasoning } : {}),
        ...(calls.length ? { tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) } : {}),
      }];
    }
  }
}
