// @vitest-environment jsdom
// engine-picker.test.tsx — a conversation's own engine choice in the composer: hidden until a
// remote exists; the default follows the Remote engines choice; picking the local engine or a
// remote is sent to the core and the model badge then names the engine this conversation uses; a
// choice naming a removed remote shows as the default it falls back to. The thinking switch of a
// local K2.5 is not offered while a remote answers the conversation (the remote's default applies).
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ThinkingToggle } from '../../../app/components/Composer.tsx';
import { EnginePicker } from '../../../app/components/EnginePicker.tsx';
import { ModelBadge } from '../../../app/components/ModelPanel.tsx';
import { createAppStore, StoreProvider, type AppStore } from '../../../app/store/index.ts';
import { DEFAULT_REMOTE_CAPABILITIES, LOCAL_PROVIDER } from '../../../common/providers.ts';
import { conv, fakeApi, flush, type FakeApi } from './fake-api.ts';

afterEach(cleanup);

const remote = (id: string, name: string) => ({
  id, name, baseUrl: `http://${name}:8000/v1`, model: 'kimi-k2-thinking', hasKey: false, capabilities: { ...DEFAULT_REMOTE_CAPABILITIES },
});

async function setup(provider: string | null = null): Promise<{ f: FakeApi; store: AppStore }> {
  const f = fakeApi();
  f.handle('getConversation', () => conv('c1', [], { provider }));
  f.handle('setConversationProvider', (p: { provider: string | null }) => conv('c1', [], { provider: p.provider }));
  const store = createAppStore(f.transport);
  await store.getState().openConversation('c1');
  return { f, store };
}

const view = (store: AppStore) => render(<StoreProvider store={store}><ModelBadge /><EnginePicker /></StoreProvider>);
const picker = () => screen.getByTestId('engine-picker') as HTMLSelectElement;

describe('the engine picker', () => {
  it('is hidden until a remote exists', async () => {
    const { store } = await setup();
    view(store);
    expect(screen.queryByTestId('engine-picker')).toBeNull();
  });

  it('default follows the Remote engines choice; local and a remote are per conversation', async () => {
    const { f, store } = await setup();
    act(() => store.getState().applyProviders({ remotes: [remote('r1', 'gpu-box'), remote('r2', 'lab')], active: 'r1' }));
    view(store);
    expect(picker().value).toBe('');
    expect(picker().dataset.effective).toBe('r1');
    expect(screen.getByText('Default (gpu-box)')).toBeTruthy();
    expect(screen.getByTestId('remote-label')).toBeTruthy();

    await act(async () => { fireEvent.change(picker(), { target: { value: LOCAL_PROVIDER } }); await flush(); });
    expect(f.calls.filter((c) => c.method === 'setConversationProvider').map((c) => c.params)).toEqual([{ conversationId: 'c1', provider: LOCAL_PROVIDER }]);
    expect(picker().value).toBe(LOCAL_PROVIDER);
    expect(picker().dataset.effective).toBe(LOCAL_PROVIDER);
    expect(screen.queryByTestId('remote-label')).toBeNull();   // this conversation: the local engine

    await act(async () => { fireEvent.change(picker(), { target: { value: 'r2' } }); await flush(); });
    expect(picker().dataset.effective).toBe('r2');
    expect(screen.getByTestId('model-badge').textContent).toContain('kimi-k2-thinking on lab');

    await act(async () => { fireEvent.change(picker(), { target: { value: '' } }); await flush(); });
    expect(f.calls.filter((c) => c.method === 'setConversationProvider').at(-1)?.params).toEqual({ conversationId: 'c1', provider: null });
    expect(picker().dataset.effective).toBe('r1');
  });

  it('a choice naming a removed remote shows as the default', async () => {
    const { store } = await setup('gone');
    act(() => store.getState().applyProviders({ remotes: [remote('r1', 'gpu-box')], active: null }));
    view(store);
    expect(picker().value).toBe('');
    expect(picker().dataset.effective).toBe(LOCAL_PROVIDER);
  });

  it('the local model\'s thinking switch is offered only while this conversation uses the local engine', async () => {
    const { store } = await setup();
    const status = store.getState().engine;
    act(() => {
      store.getState().applyEngineStatus({ ...status, state: 'ready', model: { dir: '/models/kimi-k2.5', name: 'kimi-k2.5', label: 'Kimi K2.5', thinkingSwitch: true } });
      store.getState().applyProviders({ remotes: [remote('r1', 'gpu-box')], active: 'r1' });
    });
    render(<StoreProvider store={store}><EnginePicker /><ThinkingToggle /></StoreProvider>);
    expect(screen.queryByTestId('thinking-toggle')).toBeNull();   // the default is the remote
    await act(async () => { fireEvent.change(picker(), { target: { value: LOCAL_PROVIDER } }); await flush(); });
    expect(screen.getByTestId('thinking-toggle')).toBeTruthy();
  });
});
