// @vitest-environment jsdom
// remote-figures.test.tsx — what the performance strip and the context meter say when a remote
// engine answered: figures the remote reported are shown (its cached prompt tokens), those it did
// not are "remote: not reported" rather than a 0 nobody measured; the context meter, which counts
// with the local model, says the remote counts on its side instead of disappearing.
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ContextMeter } from '../../../app/components/ContextMeter.tsx';
import { NOT_REPORTED, PerfStrip } from '../../../app/components/PerfStrip.tsx';
import { createAppStore, StoreProvider, type AppStore } from '../../../app/store/index.ts';
import type { Timings } from '../../../common/contract.ts';
import { DEFAULT_REMOTE_CAPABILITIES } from '../../../common/providers.ts';
import { conv, fakeApi, msg } from './fake-api.ts';

afterEach(cleanup);

const REMOTE = {
  id: 'r1', name: 'gpu-box', baseUrl: 'http://gpu-box:8000/v1', model: 'kimi-k2-thinking', hasKey: true,
  capabilities: { ...DEFAULT_REMOTE_CAPABILITIES, maxContext: 131072 },
};

function timings(over: Partial<Timings>): Timings {
  return {
    promptTokens: 212, cachedTokens: 192, completionTokens: 50, promptMs: 40, ttftMs: 45, decodeMs: 500,
    promptTokensPerSecond: 5300, tokensPerSecond: 98, contextUsed: 262, contextLength: 131072, ...over,
  };
}

async function answered(t: Timings): Promise<AppStore> {
  const f = fakeApi();
  f.handle('getConversation', () => conv('c1', [msg({ id: 'u1', role: 'user', content: 'Weather in Paris?' })]));
  f.handle('sendMessage', async () => ({ userMessageId: 'u1', assistantMessageId: 'a1' }));
  const store = createAppStore(f.transport);
  await store.getState().openConversation('c1');
  const base = { conversationId: 'c1', messageId: 'a1' };
  act(() => {
    f.emit('generation', { type: 'started', ...base, parentId: 'u1', model: 'kimi-k2-thinking on gpu-box' });
    f.emit('generation', { type: 'content', ...base, delta: 'Sunny.' });
    f.emit('generation', {
      type: 'finish', ...base, reason: 'stop', timings: t, error: null, continuedBy: null,
      message: msg({ id: 'a1', role: 'assistant', parentId: 'u1', content: 'Sunny.', timings: t }),
    });
  });
  return store;
}

const strip = (store: AppStore) => render(<StoreProvider store={store}><PerfStrip /></StoreProvider>);
const value = (id: string) => screen.getByTestId(id).querySelector('.stat-value')?.textContent;

describe('the performance strip after a remote answer', () => {
  it('shows the cached prompt tokens the remote reported', async () => {
    strip(await answered(timings({})));
    expect(value('perf-cached')).toBe('192 cached · 20 new');
    expect(screen.getByTestId('perf-cached').dataset.cached).toBe('192');
    expect(screen.getByTestId('perf-cached').dataset.reported).toBeUndefined();
  });

  it('a remote without cache figures: "remote: not reported", not "0 cached"', async () => {
    strip(await answered(timings({ cachedTokens: 0, notReported: ['cached'] })));
    expect(value('perf-cached')).toBe(NOT_REPORTED);
    expect(screen.getByTestId('perf-cached').dataset.reported).toBe('false');
    expect(screen.getByTestId('perf-cached').dataset.cached).toBeUndefined();
    expect(value('perf-prefill')).toMatch(/^212 tok/);
  });

  it('a remote without token counts: prompt, cache and context all say so', async () => {
    strip(await answered(timings({ promptTokens: 0, cachedTokens: 0, contextUsed: 13, notReported: ['prompt', 'cached', 'completion'] })));
    for (const id of ['perf-prefill', 'perf-cached', 'perf-context']) {
      expect(value(id)).toBe(NOT_REPORTED);
      expect(screen.getByTestId(id).dataset.reported).toBe('false');
    }
  });
});

describe('the context meter with a remote engine in use', () => {
  it('says the remote counts on its side (and its window) while composing', async () => {
    const store = await answered(timings({}));
    render(<StoreProvider store={store}><ContextMeter /></StoreProvider>);
    expect(screen.queryByTestId('context-meter')).toBeNull();   // nothing typed, local engine
    act(() => { store.getState().applyProviders({ remotes: [REMOTE], active: 'r1' }); store.getState().setDraft('And tomorrow?'); });
    const meter = screen.getByTestId('context-meter');
    expect(meter.dataset.remote).toBe('true');
    expect(screen.getByTestId('context-meter-count').textContent).toBe(NOT_REPORTED);
    expect(meter.textContent).toMatch(/gpu-box counts the prompt on its side \(its context is 131(\.1K|,072) tokens\)/);
    act(() => { store.getState().applyProviders({ remotes: [REMOTE], active: null }); });
    expect(screen.queryByTestId('context-meter')).toBeNull();   // local engine, no meter figure yet
  });
});
