// preload.ts — the only bridge between the sandboxed renderer and the core. It exposes verbs —
// one function per contract request, plus on(event, cb) — as window.karakoram; never ipcRenderer
// itself. Bundled to CommonJS by scripts/start.mjs (sandboxed preloads cannot load ESM or tsx).
import {
  IPC_EVENT_CHANNEL, IPC_REQUEST_CHANNEL, ContractError, eventNames, requestNames,
  type EventName, type WireResponse,
} from '../../common/contract.ts';

interface IpcRenderer {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, cb: (e: unknown, ...args: unknown[]) => void): void;
}
interface ContextBridge { exposeInMainWorld(key: string, api: unknown): void }
declare const require: (m: 'electron') => { ipcRenderer: IpcRenderer; contextBridge: ContextBridge };

const { ipcRenderer, contextBridge } = require('electron');

const listeners = new Map<string, Set<(p: unknown) => void>>();
ipcRenderer.on(IPC_EVENT_CHANNEL, (_e, event, payload) => {
  const set = listeners.get(event as string);
  if (set) for (const cb of set) { try { cb(payload); } catch (err) { console.error(err); } }
});

const api: Record<string, unknown> = {};
for (const name of requestNames) {
  api[name] = async (params: unknown) => {
    const r = (await ipcRenderer.invoke(IPC_REQUEST_CHANNEL, name, params ?? {})) as WireResponse;
    if (r.ok) return r.result;
    throw new ContractError(r.error.code, r.error.message);
  };
}
api.on = (event: EventName, cb: (p: unknown) => void) => {
  if (!eventNames.includes(event)) throw new Error(`unknown event '${event}'`);
  if (typeof cb !== 'function') throw new Error('on(event, cb): cb must be a function');
  let set = listeners.get(event);
  if (!set) { set = new Set(); listeners.set(event, set); }
  set.add(cb);
  return () => { set!.delete(cb); };
};

contextBridge.exposeInMainWorld('karakoram', Object.freeze(api));
