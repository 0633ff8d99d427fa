// Configuration-time checks of a remote endpoint (GET /v1/models): each way of getting it wrong
// gets its own message — nothing listening, a wrong key, a URL that is not an OpenAI API, a page
// that is not JSON, a model the server does not serve — and a right one reports the context length.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkRemote } from '../../../main/providers/check-remote.ts';
import { normalizeBaseUrl } from '../../../main/providers/http-errors.ts';
import { startStub, type StubServer } from '../../fixtures/openai-sse/recorded.ts';

let stub: StubServer;
let html: Server;
let htmlUrl: string;

beforeAll(async () => {
  stub = await startStub({ files: [], key: 'sk-right', models: [{ id: 'kimi-k2-thinking', max_model_len: 262144 }, { id: 'other' }] });
  html = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<html>router login</html>'); });
  await new Promise<void>((r) => html.listen(0, '127.0.0.1', () => r()));
  htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}/v1`;
});
afterAll(async () => { await stub.close(); await new Promise((r) => html.close(r)); });

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('checkRemote', () => {
  it('accepts the right URL, key and model, with the context length the server reports', async () => {
    const r = await checkRemote({ baseUrl: stub.url, apiKey: 'sk-right', model: 'kimi-k2-thinking' });
    expect(r).toEqual({ ok: true, error: null, baseUrl: stub.url, maxContext: 262144, models: [{ id: 'kimi-k2-thinking', maxContext: 262144 }, { id: 'other', maxContext: null }] });
  });
  it('a bare host gains /v1', async () => {
    const r = await checkRemote({ baseUrl: stub.url.replace(/\/v1$/, '/'), apiKey: 'sk-right', model: 'other' });
    expect(r.ok).toBe(true);
    expect(r.baseUrl).toBe(stub.url);
    expect(normalizeBaseUrl('https://api.example.com/openai/v1/')).toBe('https://api.example.com/openai/v1');
  });
  it('a wrong key says the key was refused', async () => {
    const r = await checkRemote({ baseUrl: stub.url, apiKey: 'sk-wrong', model: 'kimi-k2-thinking' });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/refused the API key \(401\): Invalid API key\. Check the key/);
  });
  it('no key where one is needed says the same', async () => {
    const r = await checkRemote({ baseUrl: stub.url, apiKey: '', model: 'kimi-k2-thinking' });
    expect(r.error).toMatch(/refused the API key \(401\)/);
  });
  it('nothing listening says connection refused', async () => {
    const port = await deadPort();
    const r = await checkRemote({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: '', model: 'x' });
    expect(r.error).toBe(`could not reach 127.0.0.1:${port}: connection refused — is the server running on that port?`);
  });
  it('a wrong path says the base URL is not the OpenAI API', async () => {
    const r = await checkRemote({ baseUrl: `${stub.url.replace(/\/v1$/, '')}/api`, apiKey: 'sk-right', model: 'x' });
    expect(r.error).toMatch(/answered 404 to GET \/api\/models.*usually ends in \/v1/);
  });
  it('a server that answers HTML is not an OpenAI API', async () => {
    const r = await checkRemote({ baseUrl: htmlUrl, apiKey: '', model: 'x' });
    expect(r.error).toMatch(/not JSON: is this the server's OpenAI API base URL/);
  });
  it('a model the server does not serve lists the ones it does', async () => {
    const r = await checkRemote({ baseUrl: stub.url, apiKey: 'sk-right', model: 'kimi-k2' });
    expect(r.error).toMatch(/does not serve a model called "kimi-k2"; it serves: kimi-k2-thinking, other/);
  });
  it('a string that is no URL', async () => {
    const r = await checkRemote({ baseUrl: 'gpu box:8000', apiKey: '', model: 'x' });
    expect(r.error).toMatch(/is not a URL/);
  });
  it('a server that does not answer in time', async () => {
    const hang = createServer(() => { /* never answers */ });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    const port = (hang.address() as AddressInfo).port;
    const r = await checkRemote({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: '', model: 'x' }, 200);
    hang.closeAllConnections();
    await new Promise((res) => hang.close(res));
    expect(r.error).toBe(`127.0.0.1:${port} did not answer in time`);
  });
});
