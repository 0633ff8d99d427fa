// web-tools.test.ts — tool approvals in Chromium through `karakoram serve` with the real engine
// and the demo model. The default demo policy is revoked on the Tools page first (so its tools
// ask like any other), then: the weather question → approval card → Allow once → result → final
// answer, with the second round served from the engine's prefix cache (perf strip and stored
// timings); Deny with a message → the model is told and answers without the result; "Always
// allow this tool" → the next call runs without a card, and the policy is listed on the Tools page.
// Then the Tools page with a real MCP server from npm (server-everything over stdio, added with a
// quoted path, environment lines and a working folder; a bad env line is refused): the step
// limit is set (300 at most), the server is added and runs, its tools are listed and offered in the
// composer's tool picker, its log shows, "Always allow its tools" lists one per-server policy
// (revoked again); killed, the page shows it crashed with the reason in
// its log; Restart brings it back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Conversation, KarakoramApi } from '../../common/contract.ts';
import { createWsClient } from '../../common/ws-client.ts';
import { requireAddon } from '../support/engine.ts';
import { keyedSocket } from '../support/keyed-socket.ts';
import { answeredIn, askIn, launchBrowser, openApp, shot, startServe, waitEngine, type Served } from './harness.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

requireAddon('the web-tools e2e');

const ANSWER_MS = 120_000;
/** How long an MCP server may take to start, die or come back on a shared CPU. */
const MCP_MS = 30_000;
const EVERYTHING = join(import.meta.dirname, '..', '..', 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const WEATHER = "What's the weather like in Paris today?";
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];
let api: KarakoramApi;
let closeClient: () => void;

const activeId = () => page.evaluate(() => decodeURIComponent(location.hash.replace(/^#\/?c\//, '')));
const lastTurn = () => page.locator('[data-testid="message"][data-role="assistant"]').last();
const weatherCard = () => page.locator('[data-testid="tool-call-card"][data-name="get_weather"]').last();

const ask = (text: string) => askIn(page, text);
const answered = () => answeredIn(page, ANSWER_MS);
async function newWeatherChat(): Promise<string> {
  const before = await activeId();
  await page.getByTestId('new-chat').click();
  await expect.poll(activeId).not.toBe(before);
  await page.getByTestId('demo-tools-toggle').check({ force: true });
  await expect.poll(() => page.getByTestId('demo-tools-toggle').isChecked()).toBe(true);
  return activeId();
}
async function stored(id: string): Promise<Conversation> { return api.getConversation({ conversationId: id }); }

describe('tool approvals in the browser with the demo model', () => {
  beforeAll(async () => {
    served = await startServe();
    await waitEngine(served.url, ['ready', 'error'], ANSWER_MS);
    const client = createWsClient(`${served.url.replace(/^http/, 'ws')}/ws`, keyedSocket(() => served.ownerKey));
    api = client.api;
    closeClient = client.close;
    browser = await launchBrowser();
    ({ page, errors } = await openApp(browser, served.url));
    await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor({ timeout: ANSWER_MS });
    await api.updateSettings({ sampling: { temperature: 0 } });
  });
  afterAll(async () => {
    closeClient?.();
    await browser?.close();
    await served?.stop();
  });

  it('the Tools page lists the default demo policy; revoking it makes demo calls ask', async () => {
    await page.getByTestId('tools-button').click();
    const demo = page.locator('[data-testid="policy-row"][data-server="demo"]');
    await demo.waitFor();
    await expect.poll(() => page.getByTestId('builtin-tools').textContent()).toContain('read_file');
    await shot(page, 'tools-01-page');
    await demo.getByTestId('revoke-policy').click();
    await page.getByTestId('no-policies').waitFor();
    expect(await api.listPolicies({})).toEqual([]);
    await page.getByTestId('tools-button').click();
  });

  it('weather → approval card → Allow once → result → answer; the second round prefilled only the new tokens', async () => {
    const id = await newWeatherChat();
    await ask(WEATHER);
    const card = page.getByTestId('approval-card');
    await card.waitFor({ timeout: ANSWER_MS });
    expect(await card.getByTestId('approval-tool').textContent()).toBe('get_weather');
    expect(await card.getByTestId('approval-server').textContent()).toBe('demo');
    expect(await card.getByTestId('approval-args').textContent()).toContain('Paris');
    expect(await weatherCard().getAttribute('data-status')).toBe('awaiting_approval');
    await shot(page, 'tools-02-approval-card');
    await card.getByTestId('approve-once').click();
    await answered();
    expect(await weatherCard().getAttribute('data-status')).toBe('done');
    expect(await weatherCard().getByTestId('tool-call-result').textContent()).toContain('Paris');
    const text = (await lastTurn().getByTestId('message-content').last().textContent())!.trim();
    expect(text.length).toBeGreaterThan(0);
    await shot(page, 'tools-03-allowed-answer');

    const c = await stored(id);
    const [user, a1, tool, a2] = c.messages;
    expect([user.role, a1.role, tool.role, a2.role]).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(a1.toolCalls[0]).toMatchObject({ name: 'get_weather', status: 'done', approvedBy: 'user', server: 'demo' });
    // The prefix cache: round two's prompt starts with round one's, which the engine kept.
    const t1 = a1.timings!;
    const t2 = a2.timings!;
    expect(t2.cachedTokens).toBeGreaterThanOrEqual(t1.promptTokens);
    const fresh = t2.promptTokens - t2.cachedTokens!;
    expect(fresh).toBeGreaterThan(0);
    expect(fresh).toBeLessThan(t2.promptTokens - t1.promptTokens + 1);
    // The perf strip shows the same figures for the answer.
    await expect.poll(() => page.getByTestId('perf-cached').textContent()).toContain(`${t2.cachedTokens} cached · ${fresh} new`);
    console.log(`prefix cache: round 1 prompt ${t1.promptTokens} tokens (cached ${t1.cachedTokens}); round 2 prompt ${t2.promptTokens}, cached ${t2.cachedTokens}, prefilled ${fresh}`);
  });

  it('Deny with a message: the model is told and answers without the result', async () => {
    const id = await newWeatherChat();
    await ask(WEATHER);
    const card = page.getByTestId('approval-card');
    await card.waitFor({ timeout: ANSWER_MS });
    await card.getByTestId('deny-message').fill('no weather lookups today');
    await card.getByTestId('deny').click();
    await answered();
    expect(await weatherCard().getAttribute('data-status')).toBe('denied');
    await shot(page, 'tools-04-denied');
    const c = await stored(id);
    const tool = c.messages.find((m) => m.role === 'tool')!;
    expect(JSON.parse(tool.content).error).toMatch(/denied.*no weather lookups today/);
    const last = c.messages[c.messages.length - 1];
    expect(last.role).toBe('assistant');
    expect(last.status).toBe('complete');
    // Nothing of a forecast reached the model, so none is in its answer.
    expect(last.content).not.toMatch(/temp_c|°C/);
  });

  it('Always allow this tool: the next call runs without a card; the policy is listed', async () => {
    await newWeatherChat();
    await ask(WEATHER);
    const card = page.getByTestId('approval-card');
    await card.waitFor({ timeout: ANSWER_MS });
    await card.getByTestId('approve-always').click();
    await answered();
    expect(await weatherCard().getAttribute('data-status')).toBe('done');
    expect(await api.listPolicies({})).toEqual([expect.objectContaining({ scope: 'tool', server: 'demo', tool: 'get_weather' })]);

    const id = await newWeatherChat();
    let cards = 0;
    await page.exposeFunction('__kkCard', () => { cards++; });
    await page.evaluate(() => {
      new MutationObserver(() => { if (document.querySelector('[data-testid="approval-card"]')) (window as unknown as { __kkCard(): void }).__kkCard(); })
        .observe(document.body, { subtree: true, childList: true });
    });
    await ask(WEATHER);
    await answered();
    expect(cards).toBe(0);
    expect(await weatherCard().getAttribute('data-status')).toBe('done');
    const c = await stored(id);
    expect(c.messages.find((m) => m.role === 'assistant')!.toolCalls[0].approvedBy).toBe('policy');
    await page.getByTestId('tools-button').click();
    await page.locator('[data-testid="policy-row"][data-server="demo"][data-tool="get_weather"]').waitFor();
    await shot(page, 'tools-05-always-policy');
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });

  it('Tools page: step limit; a real MCP server added, listed, logged, crashed and restarted', async () => {
    if (!(await page.getByTestId('tools-panel').isVisible())) await page.getByTestId('tools-button').click();
    const steps = page.getByTestId('setting-max-tool-steps');
    await steps.fill('250');
    await steps.press('Enter');
    await expect.poll(async () => (await api.getSettings({})).settings.maxToolSteps).toBe(250);
    // Past the limit: the field is put back and nothing is sent.
    await steps.fill('301');
    await steps.press('Enter');
    await expect.poll(() => steps.inputValue()).toBe('250');
    expect((await api.getSettings({})).settings.maxToolSteps).toBe(250);

    await page.getByTestId('mcp-name').fill('everything');
    await page.getByTestId('mcp-command').fill(process.execPath);
    // A bad environment line is reported on the form, and nothing is added.
    await page.getByTestId('mcp-args').fill(`"${EVERYTHING}" stdio`);
    await page.getByTestId('mcp-env').fill('not a variable');
    await page.getByTestId('mcp-add').click();
    expect(await page.getByTestId('mcp-form-error').textContent()).toMatch(/not KEY=value/);
    expect(await api.listMcpServers({})).toEqual([]);
    await page.getByTestId('mcp-env').fill('KK_E2E_MARK=from the form\nDEBUG=0');
    await page.getByTestId('mcp-cwd').fill(tmpdir());
    await page.getByTestId('mcp-add').click();
    const row = page.locator('[data-testid="mcp-server"][data-name="everything"]');
    await row.and(page.locator('[data-state="running"]')).waitFor({ timeout: MCP_MS });
    await expect.poll(() => row.getByTestId('mcp-tool').allTextContents()).toEqual(expect.arrayContaining(['everything__echo', 'everything__get-sum']));
    await row.getByTestId('mcp-show-log').click();
    await expect.poll(() => row.getByTestId('mcp-log').textContent()).toMatch(/connected to .*tools/);
    // Per server, not global: "always allow its tools" is one listed, revocable policy.
    await row.getByTestId('mcp-allow-all').click();
    const serverPolicy = page.locator('[data-testid="policy-row"][data-server="everything"][data-tool=""]');
    await serverPolicy.waitFor();
    expect(await api.listPolicies({})).toEqual(expect.arrayContaining([expect.objectContaining({ scope: 'server', server: 'everything', tool: null })]));
    await shot(page, 'tools-06-mcp-running');
    await serverPolicy.getByTestId('revoke-policy').click();
    await serverPolicy.waitFor({ state: 'detached' });
    await row.getByTestId('mcp-allow-all').waitFor();
    // Offered per conversation in the composer's tool picker.
    await page.getByTestId('tool-picker').locator('summary').click();
    await page.locator('[data-testid="tool-pick"][data-name="everything__echo"]').waitFor();

    const [server] = await api.listMcpServers({});
    expect(server).toMatchObject({
      state: 'running',
      config: { name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'], env: { KK_E2E_MARK: 'from the form', DEBUG: '0' }, cwd: tmpdir() },
    });
    process.kill(server.pid!, 'SIGKILL');
    await row.and(page.locator('[data-state="crashed"]')).waitFor({ timeout: MCP_MS });
    expect(await row.getByTestId('mcp-error').textContent()).toMatch(/exited/);
    await row.getByTestId('mcp-show-log').click();
    await expect.poll(() => row.getByTestId('mcp-log').textContent()).toMatch(/the server process exited/);
    await shot(page, 'tools-07-mcp-crashed');
    await row.getByTestId('mcp-restart').click();
    await row.and(page.locator('[data-state="running"]')).waitFor({ timeout: MCP_MS });
    expect((await api.listMcpServers({}))[0].pid).not.toBe(server.pid);
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });
});
