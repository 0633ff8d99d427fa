// Approvals: nothing runs without a verdict; Allow once asks again next time; Allow for this
// conversation covers that conversation only; Always allow stores a policy that is listed,
// survives a new broker on the same database and can be revoked; Deny carries the user's
// message to the model; allowing a whole server covers its tools only; a stop ends the wait; the
// demo policy holds only with the demo model.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApprovalBroker, DEMO_SERVER, deniedResult, type ApprovalRequest } from '../../../../main/services/tools/approval.ts';
import { openStore } from '../../../../main/store/index.ts';
import { SqlitePolicyStore } from '../../../../main/store/tool-policy-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'kk-approval-'));
const store = openStore(dir);
afterAll(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });

const real = { demoModel: false };
const req = (conversationId: string, callId: string, tool = 'read_file', server = 'files'): ApprovalRequest => ({ conversationId, callId, server, tool, arguments: '{"path": "a.txt"}' });

describe('approval broker', () => {
  const broker = new ApprovalBroker(new SqlitePolicyStore(store.db));

  it('waits for a decision; allow once allows only that call', async () => {
    const seen: number[] = [];
    broker.onPending((p) => seen.push(p.length));
    const p = broker.request(req('c1', 'k1'), real);
    expect(broker.pending('c1').map((r) => r.callId)).toEqual(['k1']);
    expect(broker.decide('c1', 'k1', { kind: 'allow_once' })).toBe(true);
    expect(await p).toEqual({ allowed: true, message: null, by: 'user' });
    expect(broker.decide('c1', 'k1', { kind: 'allow_once' })).toBe(false);
    expect(broker.standing('c1', 'files', 'read_file', real)).toBeNull();
    expect(seen).toEqual([1, 0]);
  });

  it('deny carries the message to the model', async () => {
    const p = broker.request(req('c1', 'k2'), real);
    broker.decide('c1', 'k2', { kind: 'deny', message: '  not that file  ' });
    const v = await p;
    expect(v).toEqual({ allowed: false, message: 'not that file', by: 'user' });
    expect(JSON.parse(deniedResult(v)).error).toMatch(/denied.*Their message: not that file/);
  });

  it('allow for this conversation covers later calls there, not elsewhere, and waiting siblings', async () => {
    const a = broker.request(req('c2', 'k1'), real);
    const b = broker.request(req('c2', 'k2'), real);   // a parallel call of the same tool
    const other = broker.request(req('c3', 'k1'), real);
    broker.decide('c2', 'k1', { kind: 'allow_conversation' });
    expect((await a).allowed).toBe(true);
    expect(await b).toEqual({ allowed: true, message: null, by: 'conversation' });
    expect(await broker.request(req('c2', 'k3'), real)).toEqual({ allowed: true, message: null, by: 'conversation' });
    expect(broker.pending('c3')).toHaveLength(1);
    broker.decide('c3', 'k1', { kind: 'deny' });
    expect((await other).allowed).toBe(false);
    broker.forgetConversation('c2');
    expect(broker.standing('c2', 'files', 'read_file', real)).toBeNull();
  });

  it('always allow stores a policy: listed, kept on disk, revocable', async () => {
    const p = broker.request(req('c4', 'k1', 'echo', 'everything'), real);
    broker.decide('c4', 'k1', { kind: 'always_tool' });
    expect((await p).allowed).toBe(true);
    expect(await broker.request(req('c9', 'k1', 'echo', 'everything'), real)).toEqual({ allowed: true, message: null, by: 'policy' });
    const again = new ApprovalBroker(new SqlitePolicyStore(store.db));
    expect(again.policies()).toEqual(expect.arrayContaining([expect.objectContaining({ scope: 'tool', server: 'everything', tool: 'echo' })]));
    expect(again.standing('c10', 'everything', 'echo', real)?.by).toBe('policy');
    expect(again.standing('c10', 'everything', 'other-tool', real)).toBeNull();
    expect(again.revoke({ scope: 'tool', server: 'everything', tool: 'echo' })).toBe(true);
    expect(broker.standing('c10', 'everything', 'echo', real)).toBeNull();
  });

  it('allow a whole server: every tool of it, waiting calls included, not other servers; revocable', async () => {
    const waiting = broker.request(req('c7', 'k1', 'get-sum', 'everything'), real);
    const elsewhere = broker.request(req('c7', 'k2', 'read_file', 'files'), real);
    const policies = broker.allowServer('everything');
    expect(policies).toEqual(expect.arrayContaining([expect.objectContaining({ scope: 'server', server: 'everything', tool: null })]));
    expect(await waiting).toEqual({ allowed: true, message: null, by: 'policy' });
    expect(broker.standing('c8', 'everything', 'any-tool-at-all', real)?.by).toBe('policy');
    expect(broker.pending('c7').map((r) => r.callId)).toEqual(['k2']);
    // Asking twice stores it once.
    expect(broker.allowServer('everything').filter((p) => p.server === 'everything')).toHaveLength(1);
    expect(broker.revoke({ scope: 'server', server: 'everything', tool: null })).toBe(true);
    expect(broker.standing('c8', 'everything', 'get-sum', real)).toBeNull();
    broker.decide('c7', 'k2', { kind: 'deny' });
    expect((await elsewhere).allowed).toBe(false);
  });

  it('a stop ends the wait without running anything', async () => {
    const ctl = new AbortController();
    const p = broker.request(req('c5', 'k1'), real, ctl.signal);
    ctl.abort();
    const v = await p;
    expect(v).toEqual({ allowed: false, message: null, by: 'stopped' });
    expect(broker.pending('c5')).toEqual([]);
    expect(JSON.parse(deniedResult(v)).error).toMatch(/stopped/);
  });

  it('the default demo policy allows the demo tools only with the demo model, and can be revoked', () => {
    expect(broker.standing('c6', DEMO_SERVER, 'get_weather', { demoModel: true })?.by).toBe('policy');
    expect(broker.standing('c6', DEMO_SERVER, 'get_weather', { demoModel: false })).toBeNull();
    expect(broker.standing('c6', 'files', 'read_file', { demoModel: true })).toBeNull();
    expect(broker.revoke({ scope: 'server', server: DEMO_SERVER, tool: null })).toBe(true);
    expect(broker.standing('c6', DEMO_SERVER, 'get_weather', { demoModel: true })).toBeNull();
  });

  it('a damaged stored value falls back to the defaults', () => {
    store.db.prepare("UPDATE settings SET value = '{nope' WHERE key = 'toolPolicies'").run();
    expect(new SqlitePolicyStore(store.db).load()).toEqual([expect.objectContaining({ server: DEMO_SERVER, demoModelOnly: true })]);
  });
});
