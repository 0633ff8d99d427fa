// tool-round.ts — one round of the agent loop: the tool calls one assistant message made, from
// parsed output to results the model reads. Per call: the tool is resolved and its arguments
// validated against its JSON schema (invalid ones go back as an error the model can fix, with no
// card); then approval (a standing policy or allowance answers at once, otherwise the call waits
// for the user's card, and a Deny goes back to the model with the user's message); then it runs
// under the per-call timeout and result-size limit, at most MAX_PARALLEL_CALLS at once. A call
// the parser could not read (malformed JSON, unknown tool) is answered with that error too, so
// the model sees what went wrong. Results come back in the order the calls were made.
import type { ApprovalEvent, GenerationEvent, ToolCallRecord } from '../../../common/contract.ts';
import { deniedResult, type ApprovalBroker } from './approval.ts';
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_MAX_RESULT_CHARS, parseArguments, runLimited } from './runner.ts';
import type { ToolCatalog } from './tool-service.ts';

/** Approved calls of one round that run at the same time; the others wait for a slot. */
export const MAX_PARALLEL_CALLS = 4;

export interface ToolRoundLimits { timeoutMs: number; maxResultChars: number; parallel: number }
export const DEFAULT_ROUND_LIMITS: ToolRoundLimits = {
  timeoutMs: DEFAULT_CALL_TIMEOUT_MS, maxResultChars: DEFAULT_MAX_RESULT_CHARS, parallel: MAX_PARALLEL_CALLS,
};

export interface ToolRoundDeps {
  tools: ToolCatalog;
  broker: ApprovalBroker;
  emitGeneration(ev: GenerationEvent): void;
  emitApproval(ev: ApprovalEvent): void;
  limits: ToolRoundLimits;
}

export interface ToolRoundInput {
  conversationId: string;
  messageId: string;
  /** The message's calls as stored (holes and settled ones are left alone). */
  calls: ToolCallRecord[];
  setCall(index: number, call: ToolCallRecord): void;
  signal: AbortSignal;
  demoModel: boolean;
}

export interface ToolAnswer { index: number; call: ToolCallRecord; result: string }

/** Calls of a finished message that get an answer this round: parsed ones, and malformed ones. */
export function answerable(calls: ToolCallRecord[]): number[] {
  return calls.flatMap((c, i) => (c && (c.status === 'pending' || (c.status === 'error' && c.result === null)) ? [i] : []));
}

/** A counting semaphore: at most `n` holders at once. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let free = n;
  const queue: Array<() => void> = [];
  return async (fn) => {
    if (free === 0) await new Promise<void>((r) => queue.push(r)); else free--;
    try { return await fn(); } finally { const next = queue.shift(); if (next) next(); else free++; }
  };
}

export async function runToolRound(deps: ToolRoundDeps, input: ToolRoundInput): Promise<ToolAnswer[]> {
  const { conversationId, messageId, signal } = input;
  const base = { conversationId, messageId };
  const slot = limiter(Math.max(1, deps.limits.parallel));
  const update = (index: number, call: ToolCallRecord): ToolCallRecord => {
    input.setCall(index, call);
    deps.emitGeneration({ type: 'tool_status', ...base, call });
    return call;
  };
  const answer = (index: number, call: ToolCallRecord, status: 'done' | 'error' | 'denied', result: string, extra: Partial<ToolCallRecord> = {}): ToolAnswer => {
    const done = update(index, { ...call, ...extra, status, result, error: status === 'done' ? null : (extra.error ?? result) });
    return { index, call: done, result };
  };

  const one = async (index: number): Promise<ToolAnswer> => {
    const call = input.calls[index];
    // Malformed in the output: the parser's reason is the model's answer.
    if (call.status === 'error') return answer(index, call, 'error', JSON.stringify({ error: call.error ?? 'the tool call could not be read' }));
    const tool = deps.tools.resolve(call.name);
    if (!tool) return answer(index, call, 'error', JSON.stringify({ error: `unknown tool '${call.name}' (it is not declared in this conversation or its server is not running)` }));
    const withServer: ToolCallRecord = { ...call, server: tool.server };
    const parsed = parseArguments(call.arguments, tool.schema);
    if (!parsed.ok) return answer(index, withServer, 'error', JSON.stringify({ error: parsed.error }));

    const req = { conversationId, messageId, callId: call.id, server: tool.server, tool: tool.tool, arguments: JSON.stringify(parsed.args) };
    const ctx = { demoModel: input.demoModel };
    const standing = deps.broker.standing(conversationId, tool.server, tool.tool, ctx);
    if (!standing) update(index, { ...withServer, status: 'awaiting_approval' });
    // Waiting first, announced second: whoever hears of the card can answer it at once.
    const waiting = deps.broker.request(req, ctx, signal);
    if (!standing) deps.emitApproval({ type: 'requested', request: req });
    const verdict = await waiting;
    if (!standing) {
      deps.emitApproval({ type: 'decided', ...base, callId: call.id, allowed: verdict.allowed, by: verdict.by, message: verdict.message });
    }
    if (!verdict.allowed) return answer(index, withServer, 'denied', deniedResult(verdict));
    const approvedBy = verdict.by === 'stopped' ? null : verdict.by;

    return slot(async () => {
      const running = update(index, { ...withServer, status: 'running', approvedBy });
      const start = performance.now();
      const out = await runLimited((s) => tool.run(parsed.args, { timeoutMs: deps.limits.timeoutMs, signal: s }),
        { timeoutMs: deps.limits.timeoutMs, maxResultChars: deps.limits.maxResultChars, signal });
      return answer(index, running, out.isError ? 'error' : 'done', out.result, { durationMs: performance.now() - start, note: out.note ?? null, error: out.isError ? out.result : null });
    });
  };

  // Nothing a tool does may end the round without an answer for every call.
  const answers = await Promise.all(answerable(input.calls).map((i) => one(i).catch((e: unknown) =>
    answer(i, input.calls[i], 'error', JSON.stringify({ error: `the tool failed: ${(e as Error)?.message ?? String(e)}` })))));
  return answers.sort((a, b) => a.index - b.index);
}
