// The agent loop of the chat service (tools/tool-round.ts inside chat-service.ts) with the demo
// model's real text layer (template, tokenizer, K2 output parser) and a scripted engine: each
// round the "model" writes the next scripted output, tokenized exactly as the engine would emit
// it. Covers schema-invalid arguments, a hanging tool (timeout), a 10 MB result, a malformed tool
// call, the step limit, approvals (allow once / deny with a message / for this conversation /
// always), parallel calls running concurrently (a rendezvous, not timing), the default step limit,
// a stop while a card waits and a stop while a tool runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalEventSchema, GenerationEventSchema, SettingsPatchSchema, type ApprovalEvent, type GenerationEvent } from '../../../common/contract.ts';
import { openStore, type Store } from '../../../main/store/index.ts';
import { SqlitePolicyStore } from '../../../main/store/tool-policy-store.ts';
import { ChatService } from '../../../main/services/chat-service.ts';
import { EventBus } from '../../../main/services/events.ts';
import { ApprovalBroker } from '../../../main/services/tools/approval.ts';
import type { ResolvedTool, ToolCatalog } from '../../../main/services/tools/tool-service.ts';
import type { ToolSpec } from '../../../common/chat-types.ts';
import { k2Answer as answer, k2Call as call, k2Calls as calls, scriptedModel, type ScriptedModel } from '../../support/scripted-model.ts';

const TIMEOUT_MS = 300;
const MAX_RESULT = 4096;
/** The step limit a user who never set one gets (the issue: 100, settable up to 300). */
const DEFAULT_STEPS = 100;
const TEN_MB = 10 * 1024 * 1024;
/** Calls of the 'meet' tool that must be running at the same time for any of them to finish. */
const MEETING = 2;

let dir: string;
let store: Store;
let chat: ChatService;
let broker: ApprovalBroker;
let sm: ScriptedModel;
const gen: GenerationEvent[] = [];
const approvals: ApprovalEvent[] = [];
/** Why each 'held' call's signal was aborted. */
const heldAborts: string[] = [];
let meeting = newMeeting();
function newMeeting() {
  let open = () => {};
  const all = new Promise<void>((r) => { open = r; });
  return { started: 0, all, open };
}

function tool(name: string, schema: Record<string, unknown>, run: ResolvedTool['run']): { spec: ToolSpec; resolved: ResolvedTool } {
  return { spec: { type: 'function', function: { name, description: name, parameters: schema } }, resolved: { name, server: 'test', tool: name, schema, run } };
}
const anyArgs = { type: 'object', properties: { x: { type: 'number' } } };
const TOOLS = [
  tool('echo', { type: 'object', required: ['x'], properties: { x: { type: 'number' } }, additionalProperties: false }, (a) => ({ result: JSON.stringify({ x: a.x }), isError: false })),
  tool('hang', anyArgs, () => new Promise(() => { /* never answers */ })),
  // Runs until its signal aborts, and says why it was.
  tool('held', anyArgs, (_a, { signal }) => new Promise((resolve) => {
    signal.addEventListener('abort', () => {
      heldAborts.push(signal.reason instanceof Error ? signal.reason.message : String(signal.reason));
      resolve({ result: '{"held": "released"}', isError: false });
    }, { once: true });
  })),
  tool('big', anyArgs, () => ({ result: 'y'.repeat(TEN_MB), isError: false })),
  tool('throws', anyArgs, () => { throw new Error('boom inside the tool'); }),
  // Each call waits until MEETING calls of it have started: run one after the other, the first
  // would wait forever (and fail at the per-call timeout). Only overlap lets both finish.
  tool('meet', anyArgs, async () => {
    meeting.started++;
    if (meeting.started >= MEETING) meeting.open();
    await meeting.all;
    return { result: JSON.stringify({ met: meeting.started }), isError: false };
  }),
];
const catalog: ToolCatalog = {
  has: (n) => TOOLS.some((t) => t.spec.function.name === n),
  specs: (ns) => TOOLS.filter((t) => ns.includes(t.spec.function.name)).map((t) => t.spec),
  resolve: (n) => TOOLS.find((t) => t.spec.function.name === n)?.resolved ?? null,
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kk-agent-'));
  store = openStore(dir);
  sm = await scriptedModel();
  const bus = new EventBus();
  bus.subscribe((ev, p) => {
    if (ev === 'generation') gen.push(GenerationEventSchema.parse(p));
    if (ev === 'approval') approvals.push(ApprovalEventSchema.parse(p));
  });
  broker = new ApprovalBroker(new SqlitePolicyStore(store.db));
  chat = new ChatService(store.chats, store.settings, sm.models, catalog, broker, bus, null, null, { timeoutMs: TIMEOUT_MS, maxResultChars: MAX_RESULT, parallel: 4 });
});
afterAll(async () => {
  await chat?.stopAll();
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  sm.script.length = 0; sm.prompts.length = 0;
  // Every call of these tests is approved under a standing server policy unless a test revokes it.
  store.db.prepare("DELETE FROM settings WHERE key = 'toolPolicies'").run();
  new SqlitePolicyStore(store.db).save([{ scope: 'server', server: 'test', tool: null, createdAt: 1 }]);
  store.settings.update({ maxToolSteps: 100 });
});

async function turn(content: string, tools: string[]) {
  const conv = store.chats.createConversation({ tools });
  chat.sendMessage(conv, content);
  await chat.idle(conv);
  const c = chat.getConversation(conv);
  return { conv, messages: c.messages, tools: c.messages.filter((m) => m.role === 'tool'), last: c.messages[c.messages.length - 1] };
}

async function until(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) throw new Error('condition not reached'); await new Promise((r) => setTimeout(r, 10)); }
}

describe('agent loop', () => {
  it('runs a call, returns its result to the model and continues to the answer', async () => {
    sm.script.push(calls(call('echo', '{"x": 7}')), answer('The echo said 7.'));
    const t = await turn('echo 7', ['echo']);
    expect(t.tools.map((m) => m.content)).toEqual(['{"x":7}']);
    expect(t.last.content).toBe('The echo said 7.');
    expect(t.last.status).toBe('complete');
    // The second round's prompt extends the first: the engine's prefix cache serves the old part.
    expect(sm.prompts[1].slice(0, sm.prompts[0].length)).toEqual(sm.prompts[0]);
    expect(sm.prompts[1].length).toBeGreaterThan(sm.prompts[0].length);
  });

  it('schema-invalid arguments go back to the model as an error it can fix, without running or a card', async () => {
    sm.script.push(calls(call('echo', '{"x": "seven", "y": 1}')), calls(call('echo', '{"x": 7}')), answer('Fixed.'));
    const before = approvals.length;
    const t = await turn('echo', ['echo']);
    expect(t.tools[0].content).toMatch(/do not match the tool's schema/);
    expect(t.tools[0].content).toMatch(/\/x must be number/);
    expect(t.tools[0].content).toMatch(/'y'/);
    expect(t.tools[1].content).toBe('{"x":7}');
    expect(t.last.content).toBe('Fixed.');
    expect(approvals.length).toBe(before);
    const first = t.messages.find((m) => m.role === 'assistant')!;
    expect(first.toolCalls[0]).toMatchObject({ status: 'error', server: 'test' });
  });

  it('a tool that hangs is abandoned at the timeout; the model is told and the turn goes on', async () => {
    sm.script.push(calls(call('hang', '{}')), answer('It timed out.'));
    const t = await turn('hang', ['hang']);
    expect(JSON.parse(t.tools[0].content).error).toMatch(/did not answer within/);
    expect(t.last.content).toBe('It timed out.');
    const first = t.messages.find((m) => m.role === 'assistant')!;
    expect(first.toolCalls[0].status).toBe('error');
    expect(first.toolCalls[0].durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
  });

  it('a 10 MB result is cut to the limit with a note the model reads', async () => {
    sm.script.push(calls(call('big', '{}')), answer('Too much.'));
    const t = await turn('big', ['big']);
    const r = t.tools[0].content;
    expect(r.length).toBeLessThan(MAX_RESULT + 200);
    expect(r).toContain(`[result truncated: the first ${MAX_RESULT} of ${TEN_MB} characters are shown]`);
    const first = t.messages.find((m) => m.role === 'assistant')!;
    expect(first.toolCalls[0].note).toMatch(/truncated/);
  });

  it('a malformed tool call in the output is answered with the parse error, and the model recovers', async () => {
    sm.script.push(calls(call('echo', '{"x": 7')), calls(call('echo', '{"x": 8}')), answer('Done.'));
    const t = await turn('echo', ['echo']);
    const first = t.messages.find((m) => m.role === 'assistant')!;
    expect(first.toolCalls[0].status).toBe('error');
    expect(t.tools[0].content).toMatch(/error/);
    expect(t.tools[1].content).toBe('{"x":8}');
    expect(t.last.content).toBe('Done.');
    expect(gen.some((e) => e.type === 'error' && e.messageId === first.id)).toBe(true);
  });

  it('a tool that throws becomes an error result; the conversation is intact', async () => {
    sm.script.push(calls(call('throws', '{}')), answer('It broke.'));
    const t = await turn('throw', ['throws']);
    expect(JSON.parse(t.tools[0].content).error).toMatch(/boom inside the tool/);
    expect(t.last.content).toBe('It broke.');
  });

  it('a loop that keeps calling tools stops at the step limit with a clear reason', async () => {
    store.settings.update({ maxToolSteps: 3 });
    sm.script.push(...Array.from({ length: 10 }, () => calls(call('echo', '{"x": 1}'))));
    const t = await turn('loop', ['echo']);
    expect(t.tools.length).toBe(3);
    expect(t.messages.filter((m) => m.role === 'assistant').length).toBe(4);
    expect(t.last.role).toBe('assistant');
    expect(t.last.error).toMatch(/step limit: 3 rounds/);
    expect(t.last.toolCalls[0].status).toBe('error');   // asked for, never run
    expect(sm.script.length).toBe(6);
  });

  it('parallel calls in one section run concurrently, results in call order', async () => {
    meeting = newMeeting();
    sm.script.push(calls(call('meet', '{}', 0), call('meet', '{}', 1), call('echo', '{"x": 3}', 2)), answer('All three.'));
    const t = await turn('three', ['meet', 'echo']);
    // Both met: each was running while the other started.
    expect(t.tools.map((m) => m.content)).toEqual(['{"met":2}', '{"met":2}', '{"x":3}']);
    expect(t.tools.map((m) => m.toolCallId)).toEqual(['functions.meet:0', 'functions.meet:1', 'functions.echo:2']);
    expect(t.last.content).toBe('All three.');
  });

  it('the step limit is 100 rounds by default and can be set up to 300, no further', async () => {
    store.db.prepare("DELETE FROM settings WHERE key = 'maxToolSteps'").run();
    expect(store.settings.get().maxToolSteps).toBe(DEFAULT_STEPS);
    expect(SettingsPatchSchema.safeParse({ maxToolSteps: 300 }).success).toBe(true);
    expect(SettingsPatchSchema.safeParse({ maxToolSteps: 301 }).success).toBe(false);
    expect(SettingsPatchSchema.safeParse({ maxToolSteps: 0 }).success).toBe(false);
    sm.script.push(...Array.from({ length: DEFAULT_STEPS + 5 }, (_, i) => calls(call('echo', `{"x": ${i}}`))));
    const t = await turn('loop forever', ['echo']);
    expect(t.tools).toHaveLength(DEFAULT_STEPS);
    expect(t.tools[DEFAULT_STEPS - 1].content).toBe(`{"x":${DEFAULT_STEPS - 1}}`);
    expect(t.last.error).toMatch(/step limit: 100 rounds/);
    expect(sm.script).toHaveLength(4);
  });
});

describe('a stop while a tool runs', () => {
  it('aborts the running call (its signal says stopped), ends the turn, keeps the conversation', async () => {
    // A per-call timeout far beyond the test, so only the stop can end the call.
    const patient = new ChatService(store.chats, store.settings, sm.models, catalog, broker, new EventBus(), null, null, { timeoutMs: 600_000, maxResultChars: MAX_RESULT, parallel: 4 });
    heldAborts.length = 0;
    sm.script.push(calls(call('held', '{}')), answer('never generated'));
    const conv = store.chats.createConversation({ tools: ['held'] });
    const { assistantMessageId } = patient.sendMessage(conv, 'hold on');
    await until(() => store.chats.getMessage(assistantMessageId).toolCalls[0]?.status === 'running');
    expect(await patient.stop(conv)).toBe(true);
    expect(heldAborts).toEqual(['stopped']);
    expect(patient.isGenerating(conv)).toBe(false);
    const msgs = patient.getConversation(conv).messages;
    expect(msgs.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(msgs[1].toolCalls[0].status).toBe('error');
    expect(JSON.parse(msgs[2].content).error).toBe('stopped');
    // The answer round never ran: its scripted output is still waiting.
    expect(sm.script).toEqual([answer('never generated')]);
    // The next turn of the same conversation works.
    sm.script.length = 0;
    sm.script.push(answer('Back.'));
    patient.sendMessage(conv, 'again');
    await patient.idle(conv);
    expect(patient.getConversation(conv).messages.at(-1)).toMatchObject({ role: 'assistant', content: 'Back.', status: 'complete' });
  });
});

describe('approvals in the loop', () => {
  beforeEach(() => { broker.revoke({ scope: 'server', server: 'test', tool: null }); });

  async function waitingCard(n = 1) {
    await until(() => broker.pending().length === n);
    return broker.pending();
  }

  it('allow once runs the call; the card events say requested then decided', async () => {
    sm.script.push(calls(call('echo', '{"x": 5}')), answer('Five.'));
    const conv = store.chats.createConversation({ tools: ['echo'] });
    const { assistantMessageId } = chat.sendMessage(conv, 'five');
    const [req] = await waitingCard();
    expect(req).toMatchObject({ conversationId: conv, messageId: assistantMessageId, server: 'test', tool: 'echo', arguments: '{"x":5}' });
    expect(store.chats.getMessage(assistantMessageId).toolCalls[0].status).toBe('awaiting_approval');
    expect(broker.decide(conv, req.callId, { kind: 'allow_once' })).toBe(true);
    await chat.idle(conv);
    const msgs = chat.getConversation(conv).messages;
    expect(msgs.find((m) => m.role === 'tool')!.content).toBe('{"x":5}');
    expect(store.chats.getMessage(assistantMessageId).toolCalls[0]).toMatchObject({ status: 'done', approvedBy: 'user' });
    const mine = approvals.filter((e) => (e.type === 'requested' ? e.request.conversationId : e.conversationId) === conv);
    expect(mine.map((e) => e.type)).toEqual(['requested', 'decided']);
    expect(mine[1]).toMatchObject({ allowed: true, by: 'user' });
  });

  it('deny tells the model, with the user message, and the model answers without the tool', async () => {
    sm.script.push(calls(call('echo', '{"x": 5}')), answer('I will answer without it.'));
    const conv = store.chats.createConversation({ tools: ['echo'] });
    chat.sendMessage(conv, 'five');
    const [req] = await waitingCard();
    broker.decide(conv, req.callId, { kind: 'deny', message: 'not this one' });
    await chat.idle(conv);
    const msgs = chat.getConversation(conv).messages;
    const toolMsg = msgs.find((m) => m.role === 'tool')!;
    expect(JSON.parse(toolMsg.content).error).toMatch(/denied.*not this one/);
    expect(msgs.find((m) => m.role === 'assistant')!.toolCalls[0].status).toBe('denied');
    expect(msgs[msgs.length - 1].content).toBe('I will answer without it.');
    // The model read the denial: it is in the next round's prompt.
    expect(sm.promptHas(1, toolMsg.content)).toBe(true);
  });

  it('always allow stores a policy: the next call runs without a card', async () => {
    sm.script.push(calls(call('echo', '{"x": 1}')), answer('One.'), calls(call('echo', '{"x": 2}')), answer('Two.'));
    const conv = store.chats.createConversation({ tools: ['echo'] });
    chat.sendMessage(conv, 'one');
    const [req] = await waitingCard();
    broker.decide(conv, req.callId, { kind: 'always_tool' });
    await chat.idle(conv);
    expect(broker.policies()).toEqual(expect.arrayContaining([expect.objectContaining({ scope: 'tool', server: 'test', tool: 'echo' })]));
    const before = approvals.length;
    const other = store.chats.createConversation({ tools: ['echo'] });
    chat.sendMessage(other, 'two');
    await chat.idle(other);
    expect(approvals.length).toBe(before);
    const msgs = chat.getConversation(other).messages;
    expect(msgs.find((m) => m.role === 'tool')!.content).toBe('{"x":2}');
    expect(msgs.find((m) => m.role === 'assistant')!.toolCalls[0].approvedBy).toBe('policy');
  });

  it('a stop while the card waits ends the turn; nothing runs and the conversation is kept', async () => {
    sm.script.push(calls(call('echo', '{"x": 9}')));
    const conv = store.chats.createConversation({ tools: ['echo'] });
    const { assistantMessageId } = chat.sendMessage(conv, 'nine');
    await waitingCard();
    await chat.stop(conv);
    expect(broker.pending()).toEqual([]);
    const m = store.chats.getMessage(assistantMessageId);
    expect(m.toolCalls[0].status).toBe('denied');
    expect(chat.isGenerating(conv)).toBe(false);
    const msgs = chat.getConversation(conv).messages;
    expect(msgs.map((x) => x.role)).toEqual(['user', 'assistant', 'tool']);
  });
});
