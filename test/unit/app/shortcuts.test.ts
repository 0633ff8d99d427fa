// @vitest-environment jsdom
// shortcuts.test.ts — the keyboard table drives the store: Esc stops an answer (or closes a
// panel), Ctrl+K focuses search, Alt+N starts a chat, Alt+R regenerates the last turn, ? helps.
import { afterEach, describe, expect, it } from 'vitest';
import { installShortcuts } from '../../../app/shortcuts.ts';
import { createAppStore } from '../../../app/store/index.ts';
import { freshGeneration } from '../../../app/store/chat.ts';
import { conv, fakeApi, flush, msg } from './fake-api.ts';

let uninstall: (() => void) | null = null;
afterEach(() => { uninstall?.(); uninstall = null; });

function press(key: string, mods: { ctrlKey?: boolean; altKey?: boolean; shiftKey?: boolean } = {}) {
  const e = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...mods });
  window.dispatchEvent(e);
  return e;
}

describe('keyboard shortcuts', () => {
  it('map keys to store actions', async () => {
    const f = fakeApi();
    const path = [msg({ id: 'u1', role: 'user' }), msg({ id: 'a1', role: 'assistant', parentId: 'u1' }), msg({ id: 't1', role: 'tool', parentId: 'a1' }), msg({ id: 'a2', role: 'assistant', parentId: 't1' })];
    f.handle('getConversation', () => conv('c1', path));
    f.handle('createConversation', () => conv('c2', []));
    f.handle('stopGeneration', async () => ({ stopped: true }));
    f.handle('regenerate', async () => ({ assistantMessageId: 'a3' }));
    const store = createAppStore(f.transport);
    await store.getState().openConversation('c1');
    uninstall = installShortcuts(store);

    const tick = store.getState().searchFocusTick;
    expect(press('k', { ctrlKey: true }).defaultPrevented).toBe(true);
    expect(store.getState().searchFocusTick).toBe(tick + 1);

    press('?', { shiftKey: true });
    expect(store.getState().panel).toBe('help');
    press('Escape');
    expect(store.getState().panel).toBe('none');

    store.setState({ generation: freshGeneration('c1', 'a2') });
    press('Escape');
    await flush();
    expect(f.calls.filter((c) => c.method === 'stopGeneration')).toEqual([{ method: 'stopGeneration', params: { conversationId: 'c1' } }]);
    store.setState({ generation: null });

    press('r', { altKey: true });
    await flush();
    // The whole last turn is redone: regenerate its first assistant message.
    expect(f.calls.find((c) => c.method === 'regenerate')?.params).toEqual({ messageId: 'a1' });
    store.setState({ generation: null });

    press('n', { altKey: true });
    await flush();
    expect(store.getState().activeId).toBe('c2');

    // Typing a "?" in a text field is text, not the help shortcut.
    const input = document.createElement('textarea');
    document.body.appendChild(input);
    input.dispatchEvent(new KeyboardEvent('keydown', { key: '?', bubbles: true, cancelable: true }));
    expect(store.getState().panel).toBe('none');
  });
});
