// The gateway's provider side against a stub OpenAI server replaying recorded vLLM streams: a
// model id routes to the remote serving it (another id stays local), one request's events come
// back without 'finish', with the remote's usage; a stop ends it as cancelled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_REMOTE_CAPABILITIES, type RemoteEndpoint } from '../../../common/providers.ts';
import { gatewayModels, routeModel, runOnRemote, type GatewayEvent } from '../../../main/providers/gateway-route.ts';
import { ANSWER, startStub, writeFixtures, type StubServer } from '../../fixtures/openai-sse/recorded.ts';

let dir: string;
let stub: StubServer;
let remotes: RemoteEndpoint[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kk-gw-'));
  writeFixtures(dir);
  stub = await startStub({ key: 'k', files: [join(dir, 'vllm-answer.sse')] });
  remotes = [{ id: 'r', name: 'gpu-box', baseUrl: stub.url, apiKey: 'k', model: 'kimi-k2-thinking', capabilities: { ...DEFAULT_REMOTE_CAPABILITIES, maxContext: 262144 } }];
});
afterAll(async () => { await stub.close(); rmSync(dir, { recursive: true, force: true }); });

describe('gateway routing to a remote', () => {
  it('routes by model id; others stay local', () => {
    expect(routeModel(remotes, 'kimi-k2-thinking')?.label).toBe('kimi-k2-thinking on gpu-box');
    expect(routeModel(remotes, 'demo-k2')).toBeNull();
    expect(routeModel(remotes, undefined)).toBeNull();
    expect(gatewayModels(remotes)).toEqual([{ id: 'kimi-k2-thinking', owned_by: 'gpu-box', max_model_len: 262144 }]);
  });

  it('runs a request there: events without finish, the remote\'s usage', async () => {
    const evs: GatewayEvent[] = [];
    const r = await runOnRemote(routeModel(remotes, 'kimi-k2-thinking')!, { messages: [{ role: 'user', content: 'hi' }], tools: null, sampling: { temperature: 0 } }, new AbortController().signal, (e) => evs.push(e));
    expect(evs.filter((e) => e.type === 'content').map((e) => (e as { delta: string }).delta).join('')).toBe(ANSWER);
    expect(evs.some((e) => (e as { type: string }).type === 'finish')).toBe(false);
    expect(r).toMatchObject({ finishReason: 'stop', promptTokens: 300, completionTokens: 20, cachedTokens: 0 });
    expect(r.firstTokenAt).not.toBeNull();
    expect(stub.requests[0]).toMatchObject({ model: 'kimi-k2-thinking', temperature: 0 });
  });

  it('a stop before it starts is cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await runOnRemote(routeModel(remotes, 'kimi-k2-thinking')!, { messages: [{ role: 'user', content: 'hi' }], tools: null, sampling: {} }, ac.signal, () => {});
    expect(r.finishReason).toBe('cancelled');
  });
});
