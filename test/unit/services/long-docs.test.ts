// Long documents through the core with the real engine and the demo model: a generated DOCX memo
// with 40 project codes and a PDF are extracted by the core (bad files refused with their
// message), the context meter's count equals the prompt the engine then reads, the answer
// arrives through the whole chat path, a second question starts from the prefix cache, and the
// same document in another conversation is read once. The demo model's own accuracy is limited:
// these check the pipeline, not the answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Core } from '../../../main/services/core.ts';
import { DEMO_MODEL_DIR } from '../../../main/services/model-service.ts';
import { requireAddon } from '../../support/engine.ts';
import { composeMessage } from '../../../common/attachments.ts';
import type { Attachment } from '../../../common/attachments.ts';
import type { ContextCount, GenerationEvent } from '../../../common/contract.ts';
import { CODES, makePdf, memoDocx } from './attach/files.ts';

let dir: string;
let core: Core;
const events: GenerationEvent[] = [];
let reqId = 0;

async function call<T>(method: string, params: unknown): Promise<T> {
  const r = await core.handle(++reqId, method, params);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.result as T;
}

function finished(messageId: string, timeoutMs = 120_000): Promise<GenerationEvent & { type: 'finish' }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      const f = events.find((e) => e.type === 'finish' && e.messageId === messageId);
      if (f) resolve(f as GenerationEvent & { type: 'finish' });
      else if (Date.now() - t0 > timeoutMs) reject(new Error(`no finish for ${messageId}`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

beforeAll(async () => {
  requireAddon('the long-document tests');
  dir = mkdtempSync(join(tmpdir(), 'kk-docs-'));
  // The over-long cases below size their documents against an 8,192-token window: fix it (the
  // default follows this machine's free RAM).
  core = new Core({ dataDir: dir, noModel: true, checkResults: true, contextLength: 8192 });
  core.store.settings.update({ sampling: { temperature: 0, maxTokens: 24 }, threads: 1, demoTools: false });
  core.models.setOptions({ threads: 1 });
  core.bus.subscribe((ev, p) => { if (ev === 'generation') events.push(p as GenerationEvent); });
  await core.models.load(DEMO_MODEL_DIR);
}, 180_000);
afterAll(async () => {
  await core?.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('long documents with the demo model', () => {
  it('extracts in the core and refuses a bad file with its message', async () => {
    const pdf = await call<Attachment>('extractAttachment', { name: 'r.pdf', data: Buffer.from(await makePdf([['The first page of the report.'], ['The second page of the report.']])).toString('base64') });
    expect(pdf).toMatchObject({ kind: 'pdf', pages: 2 });
    const bad = await core.handle(++reqId, 'extractAttachment', { name: 'bad.pdf', data: Buffer.from('%PDF-1.7 nothing').toString('base64') });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/bad.pdf is not a readable PDF/) });
  });

  it('answers about a memo with 40 project codes; the meter is exact; the second question and another conversation read it once', async () => {
    const memo = await call<Attachment>('extractAttachment', { name: 'memo.docx', data: Buffer.from(await memoDocx()).toString('base64') });
    for (const c of CODES) expect(memo.text).toContain(`| ${c.code} | ${c.owner} | ${c.budget} |`);
    const docs = [{ name: memo.name, text: memo.text }];
    const question = 'Who owns PRJ-1017?';

    const conv = await call<{ id: string }>('createConversation', {});
    const meter = await call<ContextCount>('measureContext', { conversationId: conv.id, question, attachments: docs });
    expect(meter.fits).toBe(true);
    expect(meter.attachments[0]!.tokens).toBeGreaterThan(CODES.length * 5);
    expect(meter.parts.attachments).toBe(meter.attachments[0]!.tokens);
    const p = meter.parts;
    expect(p.system + p.tools + p.history + p.message + p.attachments).toBe(meter.totalTokens);

    const sent = await call<{ assistantMessageId: string }>('sendMessage', { conversationId: conv.id, content: composeMessage(question, docs) });
    const first = await finished(sent.assistantMessageId);
    expect(first.reason === 'stop' || first.reason === 'length').toBe(true);
    expect(first.timings!.promptTokens).toBe(meter.totalTokens);   // the meter counted what the engine read
    expect(first.message.content.length + first.message.reasoning.length).toBeGreaterThan(0);
    const progress = events.filter((e) => e.type === 'prompt_progress' && e.messageId === sent.assistantMessageId);
    expect(progress.at(-1)).toMatchObject({ done: meter.totalTokens - (first.timings!.cachedTokens ?? 0), total: meter.totalTokens - (first.timings!.cachedTokens ?? 0) });

    // Second question: the memo is in the prefix cache.
    const second = await call<{ assistantMessageId: string }>('sendMessage', { conversationId: conv.id, content: 'And who owns PRJ-1033?' });
    const f2 = await finished(second.assistantMessageId);
    expect(f2.timings!.cachedTokens).toBeGreaterThanOrEqual(meter.parts.system + meter.attachments[0]!.tokens);

    // The same memo opening another conversation: read once.
    const other = await call<{ id: string }>('createConversation', {});
    const third = await call<{ assistantMessageId: string }>('sendMessage', { conversationId: other.id, content: composeMessage('List three codes.', docs) });
    const f3 = await finished(third.assistantMessageId);
    expect(f3.timings!.cachedTokens).toBeGreaterThanOrEqual(meter.attachments[0]!.tokens);

    // Leaving saves the snapshot; after an engine restart (empty cache) the next question reads
    // it back instead of the memo.
    const saved = await call<{ savedTokens: number }>('leaveConversation', { conversationId: conv.id });
    expect(saved.savedTokens).toBeGreaterThanOrEqual(meter.totalTokens - 8);
    await core.models.restart();
    const fourth = await call<{ assistantMessageId: string }>('sendMessage', { conversationId: conv.id, content: 'Which code has the largest budget?' });
    const f4 = await finished(fourth.assistantMessageId);
    expect(f4.reason === 'stop' || f4.reason === 'length').toBe(true);
    expect(f4.timings!.cachedTokens).toBeGreaterThanOrEqual(meter.parts.system + meter.attachments[0]!.tokens);
  }, 240_000);

  it('says when a prompt will not fit, and offers a context that would', async () => {
    const big = Array.from({ length: 1800 }, (_, i) => `Line ${i}: project PRJ-${i} is on schedule.`).join('\n');
    const m = await call<ContextCount>('measureContext', { conversationId: null, question: 'Summarise', attachments: [{ name: 'big.txt', text: big }] });
    expect(m.totalTokens).toBeGreaterThan(m.contextLength);
    expect(m.fits).toBe(false);
    expect(m.raiseContextTo).not.toBeNull();
    expect(m.raiseContextTo!).toBeGreaterThanOrEqual(m.totalTokens + m.answerReserve);
    expect(m.raiseContextTo!).toBeLessThanOrEqual(m.maxPosition);
  });
});
