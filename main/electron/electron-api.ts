// electron-api.ts — the slice of Electron's main-process API Karakoram uses, typed locally.
// Electron is an optional dependency (its binary download fails on some machines, and npm then
// drops the package and its types), so main.ts loads it at run time through this interface and
// the project type-checks with or without it.

export interface WebPreferences {
  preload: string; contextIsolation: boolean; sandbox: boolean; nodeIntegration: boolean;
  webSecurity: boolean; allowRunningInsecureContent: boolean; spellcheck?: boolean;
}
export interface WebContents {
  send(channel: string, ...args: unknown[]): void;
  on(event: 'will-navigate', cb: (e: { preventDefault(): void; url: string }, url: string) => void): void;
  on(event: 'render-process-gone', cb: (e: unknown, details: { reason: string }) => void): void;
  setWindowOpenHandler(cb: (d: { url: string }) => { action: 'deny' | 'allow' }): void;
  isDestroyed(): boolean;
  openDevTools?(): void;
}
export interface BrowserWindowInstance {
  webContents: WebContents;
  loadURL(url: string): Promise<void>;
  on(event: 'closed' | 'ready-to-show', cb: () => void): void;
  show(): void;
  isDestroyed(): boolean;
}
export interface BrowserWindowCtor {
  new (o: { width: number; height: number; minWidth?: number; minHeight?: number; show?: boolean; title?: string; backgroundColor?: string; webPreferences: WebPreferences }): BrowserWindowInstance;
  getAllWindows(): BrowserWindowInstance[];
}
export interface IpcMainInvokeEvent { senderFrame: { url: string } | null }
export interface UtilityProcessInstance {
  pid: number | undefined;
  postMessage(msg: unknown): void;
  on(event: 'message', cb: (msg: unknown) => void): void;
  on(event: 'exit', cb: (code: number) => void): void;
  kill(): boolean;
}
export interface Session {
  setPermissionRequestHandler(cb: (wc: unknown, permission: string, callback: (ok: boolean) => void) => void): void;
  setPermissionCheckHandler(cb: () => boolean): void;
  webRequest: { onHeadersReceived(cb: (d: { responseHeaders?: Record<string, string[]> }, callback: (r: { responseHeaders?: Record<string, string[]> }) => void) => void): void };
}

export interface ElectronMain {
  app: {
    whenReady(): Promise<void>;
    on(event: 'window-all-closed' | 'activate' | 'before-quit', cb: (e: { preventDefault(): void }) => void): void;
    on(event: 'web-contents-created', cb: (e: unknown, wc: WebContents) => void): void;
    quit(): void;
    getPath(name: 'userData'): string;
    isPackaged: boolean;
  };
  BrowserWindow: BrowserWindowCtor;
  ipcMain: { handle(channel: string, cb: (e: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void };
  protocol: {
    registerSchemesAsPrivileged(s: { scheme: string; privileges: Record<string, boolean> }[]): void;
    handle(scheme: string, cb: (req: { url: string; method: string }) => Response | Promise<Response>): void;
  };
  session: { defaultSession: Session };
  shell: { openExternal(url: string): Promise<void> };
  utilityProcess: {
    fork(modulePath: string, args?: string[], options?: { serviceName?: string; stdio?: 'inherit' | 'pipe' | 'ignore'; env?: Record<string, string | undefined> }): UtilityProcessInstance;
  };
}
