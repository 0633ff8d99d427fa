// server.ts — web mode: an HTTP server for the built renderer and a WebSocket endpoint (WS_PATH)
// that speaks the contract — the same requests and events as Electron's IPC. Any malformed
// frame gets an error response; nothing a client sends can crash the server.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { WireRequestSchema, WS_PATH, type WireEvent, type WireResponse } from '../../common/contract.ts';
import type { Core } from '../services/core.ts';
import { securityHeaders, serveStatic } from './static.ts';

/** Largest WebSocket frame accepted (an imported conversation travels in one request). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export interface ServerOptions { host: string; port: number; appDir: string }

export interface RunningServer { server: Server; url: string; port: number; close(): Promise<void> }

/** Browsers send Origin: only pages served by this server may open the socket. */
function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;   // not a browser (CLI, tests); the API-key layer guards those later
  try { return new URL(origin).host === req.headers.host; } catch { return false; }
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.startsWith('127.');
}

/**
 * Bound to loopback, the server answers only requests addressed to a loopback name: a web page
 * that rebinds its own DNS name to 127.0.0.1 cannot reach the API (DNS rebinding).
 */
function hostAllowed(req: IncomingMessage, listenHost: string): boolean {
  if (!isLoopback(listenHost)) return true;
  const host = req.headers.host;
  if (!host) return false;
  try { return isLoopback(new URL(`http://${host}`).hostname); } catch { return false; }
}

function send(ws: WebSocket, msg: WireResponse | WireEvent): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
}

export function startServer(core: Core, opts: ServerOptions): Promise<RunningServer> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  let wsOrigin: string | null = null;

  const server = createServer((req, res) => {
    const headers = securityHeaders(wsOrigin);
    if (!hostAllowed(req, opts.host)) {
      res.writeHead(403, { ...headers, 'content-type': 'text/plain' }).end('forbidden host\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { ...headers, 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ ok: true, engine: core.models.status() }));
      return;
    }
    if (path === WS_PATH) { res.writeHead(426, { ...headers, 'content-type': 'text/plain' }).end('use a WebSocket\n'); return; }
    serveStatic(opts.appDir, req, res, headers);
  });

  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH || !originAllowed(req) || !hostAllowed(req, opts.host)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data, isBinary) => {
      if (isBinary) { send(ws, { kind: 'response', id: -1, ok: false, error: { code: 'bad_request', message: 'frames must be JSON text' } }); return; }
      let raw: unknown;
      try { raw = JSON.parse(data.toString()); } catch {
        send(ws, { kind: 'response', id: -1, ok: false, error: { code: 'bad_request', message: 'frame is not valid JSON' } });
        return;
      }
      const frame = WireRequestSchema.safeParse(raw);
      if (!frame.success) {
        const id = raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : -1;
        send(ws, { kind: 'response', id, ok: false, error: { code: 'bad_request', message: 'expected {"kind":"request","id":N,"method":"...","params":{...}}' } });
        return;
      }
      core.handle(frame.data.id, frame.data.method, frame.data.params).then((r) => send(ws, r), (e) => {
        send(ws, { kind: 'response', id: frame.data.id, ok: false, error: { code: 'internal', message: String(e) } });
      });
    });
    ws.on('error', () => { /* a broken client only closes its own socket */ });
  });

  const unsubscribe = core.bus.subscribe((event, payload) => {
    if (!wss.clients.size) return;
    const text = JSON.stringify({ kind: 'event', event, payload } satisfies WireEvent);
    for (const ws of wss.clients) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      const url = `http://${hostForUrl}:${port}`;
      wsOrigin = `ws://${hostForUrl}:${port}`;
      resolve({
        server, url, port,
        close: () => new Promise<void>((res) => {
          unsubscribe();
          for (const ws of wss.clients) ws.terminate();
          wss.close();
          server.close(() => res());
          server.closeAllConnections();
        }),
      });
    });
  });
}
