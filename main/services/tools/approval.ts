// approval.ts — nothing a model asks for runs until someone allows it. A call either matches a
// standing policy (this tool always, or every tool of this server), an allowance for the
// conversation, or waits for a decision: Allow once / Allow for this conversation / Always allow
// this tool / Deny (with a message the model receives). Policies persist (a PolicyStore) and are
// listed and revocable; allowances for a conversation live as long as the process.
//
// One policy exists by default so the first run shows the demo working: the demo model's own
// demo tools (deterministic weather, calculator, clock — no files, no network) are allowed while
// the demo model is loaded, and only then. It is listed like any other and can be revoked.

export type DecisionKind = 'allow_once' | 'allow_conversation' | 'always_tool' | 'deny';
export interface Decision { kind: DecisionKind; message?: string }
export interface Verdict { allowed: boolean; message: string | null; by: 'policy' | 'conversation' | 'user' | 'stopped' }

import { DEFAULT_POLICIES, DEMO_SERVER, type Policy, type PolicyStore } from '../../../common/tool-policy.ts';

export { DEFAULT_POLICIES, DEMO_SERVER, type Policy, type PolicyStore };

export interface ApprovalRequest {
  conversationId: string;
  callId: string;
  server: string;
  tool: string;
  /** The validated arguments, as JSON text. */
  arguments: string;
  /** The assistant message that made the call (its card lives there). */
  messageId?: string;
}

interface Waiting { req: ApprovalRequest; resolve(v: Verdict): void }

export class ApprovalBroker {
  private readonly waiting = new Map<string, Waiting>();
  private readonly conversationAllows = new Map<string, Set<string>>();
  private readonly listeners = new Set<(pending: ApprovalRequest[]) => void>();

  constructor(private readonly store: PolicyStore) {}

  policies(): Policy[] { return this.store.load(); }

  /**
   * Every tool of `server` runs without a card from now on (a stored policy, revocable like the
   * others); calls of that server waiting now follow it. Returns the policies.
   */
  allowServer(server: string): Policy[] {
    const all = this.store.load();
    if (!all.some((p) => p.scope === 'server' && p.server === server && !p.demoModelOnly)) {
      this.store.save([...all, { scope: 'server', server, tool: null, createdAt: Date.now() }]);
    }
    let released = false;
    for (const [k, w] of [...this.waiting]) {
      if (w.req.server !== server) continue;
      this.waiting.delete(k);
      w.resolve({ allowed: true, message: null, by: 'policy' });
      released = true;
    }
    if (released) this.changed();
    return this.store.load();
  }

  /** Removes a policy; returns whether one was removed. */
  revoke(p: Pick<Policy, 'scope' | 'server' | 'tool'>): boolean {
    const all = this.store.load();
    const next = all.filter((x) => !(x.scope === p.scope && x.server === p.server && x.tool === p.tool));
    if (next.length === all.length) return false;
    this.store.save(next);
    return true;
  }

  /** Ends the allowances granted for one conversation. */
  forgetConversation(conversationId: string): void { this.conversationAllows.delete(conversationId); }

  onPending(cb: (pending: ApprovalRequest[]) => void): () => void { this.listeners.add(cb); return () => this.listeners.delete(cb); }
  pending(conversationId?: string): ApprovalRequest[] {
    return [...this.waiting.values()].map((w) => w.req).filter((r) => !conversationId || r.conversationId === conversationId);
  }
  private changed(): void { const p = this.pending(); for (const cb of this.listeners) cb(p); }

  /** The standing answer for a call, if there is one. */
  standing(conversationId: string, server: string, tool: string, ctx: { demoModel: boolean }): Verdict | null {
    const policy = this.store.load().find((p) => p.server === server && (p.scope === 'server' || p.tool === tool) && (!p.demoModelOnly || ctx.demoModel));
    if (policy) return { allowed: true, message: null, by: 'policy' };
    if (this.conversationAllows.get(conversationId)?.has(key(server, tool))) return { allowed: true, message: null, by: 'conversation' };
    return null;
  }

  /**
   * Resolves with the verdict: at once under a standing policy, else when decide() is called for
   * this call, or as not allowed when `signal` aborts (the user stopped the turn).
   */
  request(req: ApprovalRequest, ctx: { demoModel: boolean }, signal?: AbortSignal): Promise<Verdict> {
    const now = this.standing(req.conversationId, req.server, req.tool, ctx);
    if (now) return Promise.resolve(now);
    if (signal?.aborted) return Promise.resolve({ allowed: false, message: null, by: 'stopped' });
    return new Promise<Verdict>((resolve) => {
      const id = waitKey(req.conversationId, req.callId);
      const onAbort = () => { if (this.waiting.delete(id)) { this.changed(); resolve({ allowed: false, message: null, by: 'stopped' }); } };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(id, { req, resolve: (v) => { signal?.removeEventListener('abort', onAbort); resolve(v); } });
      this.changed();
    });
  }

  /** The user's answer to a waiting call; false when no such call is waiting. */
  decide(conversationId: string, callId: string, d: Decision): boolean {
    const id = waitKey(conversationId, callId);
    const w = this.waiting.get(id);
    if (!w) return false;
    this.waiting.delete(id);
    const { server, tool } = w.req;
    if (d.kind === 'allow_conversation') {
      const set = this.conversationAllows.get(conversationId) ?? new Set<string>();
      set.add(key(server, tool));
      this.conversationAllows.set(conversationId, set);
    }
    if (d.kind === 'always_tool') {
      const all = this.store.load();
      if (!all.some((p) => p.scope === 'tool' && p.server === server && p.tool === tool)) {
        this.store.save([...all, { scope: 'tool', server, tool, createdAt: Date.now() }]);
      }
    }
    const message = d.message?.trim() ? d.message.trim() : null;
    w.resolve({ allowed: d.kind !== 'deny', message, by: 'user' });
    // Other calls of the same tool waiting in this conversation follow a standing answer.
    if (d.kind === 'allow_conversation' || d.kind === 'always_tool') {
      for (const [k, o] of [...this.waiting]) {
        if (o.req.server === server && o.req.tool === tool && (d.kind === 'always_tool' || o.req.conversationId === conversationId)) {
          this.waiting.delete(k);
          o.resolve({ allowed: true, message: null, by: d.kind === 'always_tool' ? 'policy' : 'conversation' });
        }
      }
    }
    this.changed();
    return true;
  }
}

const key = (server: string, tool: string) => `${server}\u0000${tool}`;
const waitKey = (conversationId: string, callId: string) => `${conversationId}\u0000${callId}`;

/** What the model reads when a call was not allowed. */
export function deniedResult(v: Verdict): string {
  const base = v.by === 'stopped' ? 'The user stopped before deciding; the tool was not run.' : 'The user denied this tool call; it was not run.';
  return JSON.stringify({ error: v.message ? `${base} Their message: ${v.message}` : base });
}
