// @vitest-environment jsdom
// remote-capabilities.test.tsx — adding a remote engine with what it supports: the form sends the
// capabilities the user set (tool calling, the reasoning field, a context length, token counts,
// the extra sampling fields); a blank or invalid context length leaves the server's own figure in
// charge; the remote's row then says what it lacks.
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
});
