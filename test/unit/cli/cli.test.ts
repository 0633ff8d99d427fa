import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { run as runCmd } from '../../../main/cli/commands/run.ts';
import { run as tokenizeCmd } from '../../../main/cli/commands/tokenize.ts';
import { requireAddon } from '../../support/engine.ts';
import { chatGoldens, DEMO_MODEL, REPO_ROOT, tokenizerCases } from '../text/shared.ts';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { out += String(chunk); return true; });
  try { return { code: await fn(), out }; } finally { spy.mockRestore(); }
}

describe('karakoram tokenize', () => {
  afterEach(() => vi.restoreAllMocks());
  const c = tokenizerCases().find((x) => x.text.startsWith('<think>'))!;

  it('prints ids as a JSON array, special text plain unless --allow-special', async () => {
    expect(JSON.parse((await capture(() => tokenizeCmd(['--model', DEMO_MODEL, '--text', c.text]))).out)).toEqual(c.ids);
    expect(JSON.parse((await capture(() => tokenizeCmd(['--model', DEMO_MODEL, '--text', c.text, '--allow-special']))).out)).toEqual(c.ids_allowing_special);
  });

  it('--pieces prints the pre-tokenizer pieces; --file reads a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kk-tok-'));
    writeFileSync(join(dir, 'in.txt'), "Don't stop 北京");
    const { out } = await capture(() => tokenizeCmd(['--model', DEMO_MODEL, '--file', join(dir, 'in.txt'), '--pieces']));
    expect(JSON.parse(out)).toEqual(["Don't", ' stop', ' ', '北京']);
  });

  it('rejects both or neither of --text/--file', async () => {
    await expect(tokenizeCmd(['--model', DEMO_MODEL])).rejects.toThrow(/exactly one/);
  });
});

describe('karakoram run (argument checks)', () => {
  it('the weather chat fixture is the golden conversation', () => {
    const g = chatGoldens()[2];
    const chat = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'chats', 'weather.json'), 'utf8'));
    expect(chat).toEqual({ messages: g.messages, tools: g.tools });
  });

  it('needs exactly one prompt source', async () => {
    await expect(runCmd(['--model', DEMO_MODEL])).rejects.toThrow(/exactly one of --prompt/);
    await expect(runCmd(['--model', DEMO_MODEL, '--prompt', 'a', '--prompt-ids', '1'])).rejects.toThrow(/exactly one/);
  });
});

describe('karakoram run with the engine', () => {
  beforeAll(() => { requireAddon('karakoram run'); });
  it('--chat <weather chat> --json prints the tool call', async () => {
    const g = chatGoldens()[2];
    const chat = join(REPO_ROOT, 'test', 'fixtures', 'chats', 'weather.json');   // the golden's messages and tools
    const { code, out } = await capture(() => runCmd(['--model', DEMO_MODEL, '--chat', chat, '--json']));
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.prompt_text).toBe(g.prompt_text);
    expect(r.prompt_ids).toEqual(g.prompt_ids);
    expect(r.output_ids).toEqual(g.output_ids);
    expect(r.finish_reason).toBe('tool_calls');
    expect(r.tool_calls).toHaveLength(1);
    expect(r.tool_calls[0].function.name).toBe('get_weather');
    expect(JSON.parse(r.tool_calls[0].function.arguments)).toEqual({ city: 'Paris' });
    expect(r.usage.prompt_tokens).toBe(g.prompt_ids.length);
  });

  it('--prompt-ids prints the generated ids', async () => {
    const g = chatGoldens()[1];
    const { out } = await capture(() => runCmd(['--model', DEMO_MODEL, '--prompt-ids', g.prompt_ids.join(','), '--max-tokens', '64']));
    expect(JSON.parse(out)).toEqual(g.output_ids);
  });
});
