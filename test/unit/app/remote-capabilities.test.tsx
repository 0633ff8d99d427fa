// @vitest-environment jsdom
// remote-capabilities.test.tsx — adding a remote engine with what it supports: the form sends the
// capabilities the user set (tool calling, the reasoning field, a context length, token counts,
// the extra sampling fields); a blank or invalid context length leaves the server's own figure in
// charge; the remote's row then says what it lacks. Editing a remote starts from its settings,
// keeps its key unless a new one is typed, and saves under its id.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { capabilitiesOf, DEFAULT_DRAFT } from '../../../app/components/RemoteCapabilities.tsx';
import { RemotePanel } from '../../../app/components/RemotePanel.tsx';
import { createAppStore, StoreProvider } from '../../../app/store/index.ts';
import { DEFAULT_REMOTE_CAPABILITIES, type ProvidersView, type RemoteEndpointInput } from '../../../common/providers.ts';
import { fakeApi, flush } from './fake-api.ts';

afterEach(cleanup);

describe('capabilitiesOf', () => {
  it('a blank or invalid context length is left to the server', () => {
    expect(capabilitiesOf(DEFAULT_DRAFT)).toEqual({ tools: true, reasoningField: 'auto', tokenCounts: true, extraSampling: true });
    expect(capabilitiesOf({ ...DEFAULT_DRAFT, maxContext: '12.5' })).not.toHaveProperty('maxContext');
    expect(capabilitiesOf({ ...DEFAULT_DRAFT, maxContext: '-3' })).not.toHaveProperty('maxContext');
    expect(capabilitiesOf({ ...DEFAULT_DRAFT, maxContext: '65536' }).maxContext).toBe(65536);
  });
});

describe('the remote form', () => {
  it('sends what the server supports, and the row says what it lacks', async () => {
    const f = fakeApi();
    let view: ProvidersView = { remotes: [], active: null };
    f.handle('listRemotes', () => view);
    f.handle('selectProvider', ({ id }: { id: string | null }) => { view = { ...view, active: id }; return view; });
    f.handle('saveRemote', (p: RemoteEndpointInput) => {
      const saved = { id: 'r1', name: p.name, baseUrl: p.baseUrl, model: p.model, hasKey: false, capabilities: { ...DEFAULT_REMOTE_CAPABILITIES, ...p.capabilities } };
      view = { remotes: [saved], active: null };
      return saved;
    });
    const store = createAppStore(f.transport);
    render(<StoreProvider store={store}><RemotePanel /></StoreProvider>);
    fireEvent.change(screen.getByTestId('remote-name'), { target: { value: 'ollama-box' } });
    fireEvent.change(screen.getByTestId('remote-url'), { target: { value: 'http://ollama-box:11434/v1' } });
    fireEvent.change(screen.getByTestId('remote-model'), { target: { value: 'kimi-k2' } });
    fireEvent.click(screen.getByTestId('cap-token-counts'));
    fireEvent.click(screen.getByTestId('cap-extra-sampling'));
    fireEvent.change(screen.getByTestId('cap-reasoning'), { target: { value: 'reasoning' } });
    fireEvent.change(screen.getByTestId('cap-context'), { target: { value: '65536' } });
    await act(async () => { fireEvent.click(screen.getByTestId('remote-save')); await flush(); await flush(); });
    const saved = f.calls.find((c) => c.method === 'saveRemote')!.params as RemoteEndpointInput;
    expect(saved).toMatchObject({ name: 'ollama-box', baseUrl: 'http://ollama-box:11434/v1', model: 'kimi-k2' });
    expect(saved.capabilities).toEqual({ tools: true, reasoningField: 'reasoning', tokenCounts: false, extraSampling: false, maxContext: 65536 });
    const caps = screen.getByTestId('remote-caps').textContent;
    expect(caps).toMatch(/65(\.5K|,536) tokens of context/);
    expect(caps).toContain('no token counts');
    expect(caps).toContain('reasoning in reasoning');
    expect(caps).toContain('OpenAI sampling fields only');
    expect(caps).not.toContain('no tool calling');
  });

  it('Edit: the form starts from the remote, the key stays unless retyped, the save keeps its id', async () => {
    const f = fakeApi();
    const r1 = { id: 'r1', name: 'gpu-box', baseUrl: 'http://gpu-box:8000/v1', model: 'kimi-k2-thinking', hasKey: true, capabilities: { ...DEFAULT_REMOTE_CAPABILITIES, tokenCounts: false, maxContext: 131072 } };
    let view: ProvidersView = { remotes: [r1], active: 'r1' };
    f.handle('listRemotes', () => view);
    f.handle('saveRemote', (p: RemoteEndpointInput) => {
      view = { ...view, remotes: [{ ...r1, model: p.model, capabilities: { ...r1.capabilities, ...p.capabilities } }] };
      return view.remotes[0];
    });
    const store = createAppStore(f.transport);
    await act(async () => { await store.getState().loadProviders(); });
    render(<StoreProvider store={store}><RemotePanel /></StoreProvider>);
    fireEvent.click(screen.getByTestId('remote-edit'));
    expect(screen.getByTestId('remote-editing').textContent).toBe('Editing gpu-box');
    expect((screen.getByTestId('remote-url') as HTMLInputElement).value).toBe('http://gpu-box:8000/v1');
    expect((screen.getByTestId('cap-token-counts') as HTMLInputElement).checked).toBe(false);
    expect((screen.getByTestId('cap-context') as HTMLInputElement).value).toBe('131072');
    expect(screen.getByTestId('remote-save').textContent).toBe('Save changes');
    fireEvent.change(screen.getByTestId('remote-model'), { target: { value: 'kimi-k2.5' } });
    await act(async () => { fireEvent.click(screen.getByTestId('remote-save')); await flush(); await flush(); });
    const saved = f.calls.find((c) => c.method === 'saveRemote')!.params as RemoteEndpointInput;
    expect(saved).toMatchObject({ id: 'r1', name: 'gpu-box', model: 'kimi-k2.5' });
    expect(saved).not.toHaveProperty('apiKey');   // the stored key is kept
    expect(saved.capabilities).toMatchObject({ tokenCounts: false, maxContext: 131072 });
    expect(screen.queryByTestId('remote-editing')).toBeNull();   // back to a blank form
    expect(screen.getByTestId('remote-save').textContent).toBe('Add and use');
    expect(f.calls.some((c) => c.method === 'selectProvider')).toBe(false);
  });
});
