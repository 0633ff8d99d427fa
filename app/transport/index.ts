// index.ts — picks the transport: Electron's preload verbs when present, else the WebSocket
// served next to this page by `karakoram serve`.
import type { ContractClient } from './client.ts';
import { IpcClient, type PreloadApi } from './ipc.ts';
import { WsClient, defaultWsUrl } from './ws.ts';

export type { ContractClient } from './client.ts';

export function createClient(win: Window & { karakoram?: PreloadApi } = window): ContractClient {
  if (win.karakoram && typeof win.karakoram.call === 'function') return new IpcClient(win.karakoram);
  return new WsClient({ url: defaultWsUrl(win.location), reconnect: true });
}
