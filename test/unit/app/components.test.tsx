// @vitest-environment jsdom
// components.test.tsx — the reasoning panel streams open, collapses when the answer starts and
// can be expanded again; tool calls show as cards; the crash banner offers Restart; the help
// dialog lists the shortcuts.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { CrashBanner } from '../../../app/components/Banners.tsx';
import { HelpDialog } from '../../../app/components/HelpDialog.tsx';
import { ModelPanel } from '../../../app/components/ModelPanel.tsx';
import { SettingsPanel } from '../../../app/components/SettingsPanel.tsx';
import { DEFAULT_SETTINGS } from '../../../main/store/settings-store.ts';
import { AssistantTurn } from '../../../app/components/MessageItem.tsx';
import { SHORTCUTS } from '../../../app/shortcuts.ts';
import { createAppStore, StoreProvider, type AppStore } from '../../../app/store/index.ts';
import type { EngineStatus } from '../../../common/contract.ts';
import { conv, fakeApi, msg } from './fake-api.ts';

afterEach(cleanup);

function Turn({ store }: { store: AppStore }) {
  return <StoreProvider store={store}><LiveTurn store={store} /></StoreProvider>;
}
function LiveTurn({ store }: { store: AppStore }) {
  const messages = store.getState().messages.filter((m) => m.role !== 'user');
  return <AssistantTurn messages={messages} />;
}

async function setup() {
  const f = fakeApi();
  f.handle('getConversation', () => conv('c1', [msg({ id: 'u1', role: 'user', content: 'Who are you?' })]));
  f.handle('sendMessage', async () => ({ userMessageId: 'u1', assistantMessageId: 'a1' }));
  const store = createAppStore(f.transport);
  await store.getState().openConversation('c1');
  return { f, store };
}

describe('reasoning panel', () => {
  it('streams open with a token count, collapses when the answer starts, expands on click', async () => {
    const { f, store } = await setup();
    const base = { conversationId: 'c1', messageId: 'a1' };
    f.emit('generation', { type: 'started', ...base, parentId: 'u1', model: null });
    f.emit('generation', { type: 'reasoning', ...base, delta: 'The user asks ' });
    f.emit('generation', { type: 'reasoning', ...base, delta: 'who I am.' });
    const r = render(<Turn store={store} />);
    let panel = screen.getByTestId('reasoning-panel');
    expect(panel.dataset.state).toBe('open');
    expect(panel.dataset.streaming).toBe('true');
    expect(screen.getByTestId('reasoning-text').textContent).toContain('The user asks who I am.');
    expect(screen.getByTestId('reasoning-tokens').textContent).toBe('2 tokens');
    expect(screen.getByTestId('reasoning-elapsed').textContent).toMatch(/^\d+(\.\d+)? (ms|s)$/);

    act(() => {
      f.emit('generation', { type: 'reasoning_end', ...base, reasoningMs: 1500, reasoningTokens: 2 });
      f.emit('generation', { type: 'content', ...base, delta: 'I am **Kimi**.' });
    });
    r.rerender(<Turn store={store} />);
    panel = screen.getByTestId('reasoning-panel');
    expect(panel.dataset.state).toBe('collapsed');
    expect(screen.queryByTestId('reasoning-text')).toBeNull();
    expect(screen.getByTestId('reasoning-elapsed').textContent).toBe('1.5 s');
    expect(screen.getByTestId('message-content').querySelector('strong')?.textContent).toBe('Kimi');

    fireEvent.click(screen.getByTestId('reasoning-toggle'));
    expect(screen.getByTestId('reasoning-panel').dataset.state).toBe('open');
    expect(screen.getByTestId('reasoning-text').textContent).toContain('who I am.');
  });
});

describe('tool call card', () => {
  it('shows name, arguments, status, result and duration; folds the tool message in', async () => {
    const { store } = await setup();
    const call = { id: 'functions.get_weather:0', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'done' as const, result: null, error: null, durationMs: 12 };
    store.setState({
      messages: [
        msg({ id: 'u1', role: 'user', content: 'weather?' }),
        msg({ id: 'a1', role: 'assistant', parentId: 'u1', toolCalls: [call], finishReason: 'tool_calls' }),
        msg({ id: 't1', role: 'tool', parentId: 'a1', toolCallId: call.id, toolName: 'get_weather', content: '{"temp_c":18}' }),
        msg({ id: 'a2', role: 'assistant', parentId: 't1', content: 'It is 18 °C in Paris.' }),
      ],
    });
    render(<Turn store={store} />);
    const card = screen.getByTestId('tool-call-card');
    expect(card.dataset.name).toBe('get_weather');
    expect(card.dataset.status).toBe('done');
    expect(screen.getByTestId('tool-call-args').textContent).toContain('"city": "Paris"');
    expect(screen.getByTestId('tool-call-result').textContent).toContain('"temp_c": 18');
    expect(screen.getByTestId('tool-call-duration').textContent).toBe('12 ms');
    expect(screen.queryByTestId('tool-message')).toBeNull();
    expect(screen.getByText('It is 18 °C in Paris.')).toBeTruthy();
    expect(screen.queryByTestId('tool-call-note')).toBeNull();
  });

  it('shows the tool note (demo data) on the card, folded or open', async () => {
    const { store } = await setup();
    const call = { id: 'functions.get_weather:0', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'done' as const,
      result: '{"temp_c":18}', error: null, durationMs: 3, note: 'Demo data, not a real forecast' };
    store.setState({
      messages: [
        msg({ id: 'u1', role: 'user', content: 'weather?' }),
        msg({ id: 'a1', role: 'assistant', parentId: 'u1', toolCalls: [call], finishReason: 'tool_calls' }),
      ],
    });
    render(<Turn store={store} />);
    expect(screen.getByTestId('tool-call-note').textContent).toBe('Demo data, not a real forecast');
    fireEvent.click(screen.getByTestId('tool-call-card').querySelector('button.tool-head')!);
    expect(screen.queryByTestId('tool-call-result')).toBeNull();
    expect(screen.getByTestId('tool-call-note').textContent).toBe('Demo data, not a real forecast');
  });
});

describe('banners and help', () => {
  it('the crash banner appears on a crash, Restart calls restartEngine, then a dismissable note remains', async () => {
    const { f, store } = await setup();
    const ready: EngineStatus = { state: 'ready', model: null, progress: null, error: null, pid: 42, restarts: 1, backend: 'cpu', backendWhy: 'CPU: no CUDA driver found (libcuda.so.1 not loadable)' };
    f.handle('restartEngine', async () => ready);
    render(<StoreProvider store={store}><CrashBanner /></StoreProvider>);
    expect(screen.queryByTestId('crash-banner')).toBeNull();
    act(() => f.emit('engineStatus', { ...ready, state: 'crashed', error: 'engine exited (SIGKILL)', pid: null }));
    expect(screen.getByTestId('crash-banner').textContent).toContain('engine exited (SIGKILL)');
    await act(async () => { fireEvent.click(screen.getByTestId('restart-engine')); });
    expect(f.calls.some((c) => c.method === 'restartEngine')).toBe(true);
    expect(store.getState().engine.state).toBe('ready');
    // Restarted by the user: no banner left.
    expect(screen.queryByTestId('crash-banner')).toBeNull();
    // Restarted by the core itself: a dismissable note says what happened.
    act(() => f.emit('engineStatus', { ...ready, state: 'crashed', error: 'engine exited (SIGSEGV)', pid: null }));
    act(() => f.emit('engineStatus', { ...ready, pid: 43 }));
    expect(screen.getByTestId('crash-banner').dataset.state).toBe('recovered');
    expect(screen.getByTestId('crash-banner').textContent).toContain('SIGSEGV');
    fireEvent.click(screen.getByTestId('dismiss-crash'));
    expect(screen.queryByTestId('crash-banner')).toBeNull();
  });

  it('the help dialog lists every shortcut', async () => {
    const { store } = await setup();
    render(<StoreProvider store={store}><HelpDialog /></StoreProvider>);
    const text = screen.getByTestId('help-dialog').textContent ?? '';
    for (const s of SHORTCUTS) expect(text).toContain(s.does);
    expect(text).toContain('Ctrl+K');
  });
});

describe('model panel', () => {
  it('says which backend the loaded model runs on and why', async () => {
    const { f, store } = await setup();
    render(<StoreProvider store={store}><ModelPanel /></StoreProvider>);
    expect(screen.queryByTestId('backend-why')).toBeNull();
    const why = 'CPU: no CUDA driver found (libcuda.so.1 not loadable)';
    act(() => f.emit('engineStatus', { state: 'ready', model: null, progress: null, error: null, pid: 7, restarts: 0, backend: 'cpu', backendWhy: why }));
    expect(screen.getByTestId('engine-line').textContent).toContain('cpu');
    expect(screen.getByTestId('backend-why').textContent).toBe(why);
  });
});

describe('settings panel: backend and GPU memory', () => {
  it('saves the backend choice and the GPU expert budget', async () => {
    const { f, store } = await setup();
    const settings = { ...DEFAULT_SETTINGS };
    f.handle('getSettings', async () => ({ settings, modelDefaults: { sampling: {}, contextLength: 4096 } }));
    f.handle('updateSettings', async (patch) => ({ settings: Object.assign(settings, patch), modelDefaults: { sampling: {}, contextLength: 4096 } }));
    await store.getState().loadSettings();
    render(<StoreProvider store={store}><SettingsPanel /></StoreProvider>);
    const select = screen.getByTestId('setting-backend') as HTMLSelectElement;
    expect(select.value).toBe('auto');
    await act(async () => { fireEvent.change(select, { target: { value: 'cpu' } }); });
    const budget = screen.getByTestId('setting-gpu-expert-budget');
    await act(async () => { fireEvent.change(budget, { target: { value: '12' } }); fireEvent.blur(budget); });
    const patches = f.calls.filter((c) => c.method === 'updateSettings').map((c) => c.params);
    expect(patches).toEqual([{ backend: 'cpu' }, { gpuExpertBudgetGiB: 12 }]);
    expect(store.getState().settingsView?.settings.backend).toBe('cpu');
  });
});

describe('model panel: expert heat map', () => {
  it('fetches the heat map and draws one row per MoE layer, GPU-resident experts marked', async () => {
    const { f, store } = await setup();
    f.handle('getExpertHeat', async () => ({
      backend: 'cuda',
      layers: [{ counts: [5, 0, 1], onGpu: [true, false, false] }, { counts: [0, 2, 2], onGpu: [false, true, true] }],
    }));
    render(<StoreProvider store={store}><ModelPanel /></StoreProvider>);
    expect(screen.queryByTestId('expert-heat')).toBeNull();  // no model ready
    act(() => f.emit('engineStatus', { state: 'ready', model: null, progress: null, error: null, pid: 7, restarts: 0, backend: 'cuda', backendWhy: 'CUDA: 1 CUDA device found (/x)' }));
    await act(async () => { fireEvent.click(screen.getByTestId('expert-heat-refresh')); });
    expect(screen.getAllByTestId('expert-heat-row')).toHaveLength(2);
    expect(screen.getByTestId('expert-heat-summary').textContent).toContain('2 MoE layers × 3 experts; 3 of 6 on the GPU');
    // counts 5+0+1+0+2+2 = 10; on the GPU 5+2+2 = 9
    expect(screen.getByTestId('expert-heat-summary').textContent).toContain('serving 90% of routing decisions');
    expect(document.querySelectorAll('.heat-cell[data-gpu="1"]')).toHaveLength(3);
  });

  it('on the CPU backend says there are no routing statistics', async () => {
    const { f, store } = await setup();
    f.handle('getExpertHeat', async () => ({ backend: 'cpu', layers: [] }));
    render(<StoreProvider store={store}><ModelPanel /></StoreProvider>);
    act(() => f.emit('engineStatus', { state: 'ready', model: null, progress: null, error: null, pid: 7, restarts: 0, backend: 'cpu', backendWhy: 'CPU: chosen in the settings' }));
    await act(async () => { fireEvent.click(screen.getByTestId('expert-heat-refresh')); });
    expect(screen.getByTestId('expert-heat-empty').textContent).toContain('the CPU backend does not record them');
  });
});
