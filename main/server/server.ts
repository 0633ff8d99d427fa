// server.ts — `karakoram serve`: the renderer over HTTP(S), the contract over a WebSocket (WS_PATH,
// the same requests and events as Electron's IPC), the OpenAI- and Anthropic-compatible /v1 APIs
// and Prometheus /metrics. Every route needs a credential (see auth/access.ts): an API key, or
// for the browser app a session cookie from logging in with one; a logged-out browser gets the
// login page instead of the app. Binding beyond loopback needs at least one API key. Malformed
// frames and requests get clear errors; nothing a client sends can crash the server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { WireRequestSchema, WS_PATH, type RequestName, type WireEvent, type WireResponse } from '../../common/contract.ts';
import type { Core } from '../services/core.ts';
import { SESSION_COOKIE, SESSION_TTL_MS, credentialOf, type Access, type Principal } from './auth/access.ts';
import { LOGIN_PAGE, LOGIN_PATH, LOGIN_SCRIPT, LOGIN_SCRIPT_PATH, LOGOUT_PATH } from './auth/login-page.ts';
import { handleApi, InFlight, apiPrincipal } from './api-router.ts';
import { ServerGeneration } from './generation.ts';
import { ApiError } from './http/api-error.ts';
import { DEFAULT_MAX_BODY_BYTES, readJson } from './http/body.ts';
import { ServerMetrics } from './metrics.ts';
import { AdmissionQueue, DEFAULT_QUEUE_LIMITS, type QueueLimits } from './queue.ts';
import { securityHeaders, serveStatic } from './static.ts';

/** Largest WebSocket frame accepted (an imported conversation travels in one request). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** A login body is one key: anything bigger is not one. */
const MAX_LOGIN_BODY_BYTES = 4096;

/**
 * Contract requests only a key with admin rights (the workstation's owner) may make. The tool
 * set-up is among them: an MCP stdio server is a command run on this machine, a granted folder
 * is what read_file may read, a policy is what runs without asking, and a server's log may hold
 * what it was given in its environment.
 */
export const ADMIN_METHODS: ReadonlySet<RequestName> = new Set<RequestName>([
  'loadModel', 'inspectModel', 'listLocalModels', 'restartEngine', 'updateSettings',
  'saveMcpServer', 'deleteMcpServer', 'setMcpServerEnabled', 'restartMcpServer', 'importMcpJson', 'getMcpLog',
  'setGrantedFolders', 'allowServer', 'revokePolicy',
]);

/**
 * Whether a request needs the owner's key: the admin methods, the server's own, and an approval
 * that stores a standing policy for everyone ("always allow this tool"); a plain key may still
 * allow or deny a call once or for its conversation.
 */
export function needsAdmin(method: string, params: unknown): boolean {
  if (ADMIN_METHODS.has(method as RequestName) || method.startsWith('server')) return true;
  return method === 'decideToolCall' && (params as { kind?: unknown } | null)?.kind === 'always_tool';
}

export interface TlsOptions { cert: string | Buffer; key: string | Buffer }

export interface ServerOptions {
  host: string;
  port: number;
  appDir: string;
  access: Access;
  maxBodyBytes?: number;
  queue?: QueueLimits;
  tls?: TlsOptions;
}

export interface ConnectionInfo { id: number; kind: 'http' | 'websocket'; keyId: string | null; keyName: string | null; remote: string; since: number }

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  queue: AdmissionQueue;
  metrics: ServerMetrics;
  connections(): ConnectionInfo[];
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.startsWith('127.');
}

/** Browsers send Origin: only pages served by this server may open the socket. */
function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;   // not a browser (CLI, tests); the key check guards those
  try { return new URL(origin).host === req.headers.host; } catch { return false; }
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

/** The refusal to listen beyond loopback without a key, as a clear error. */
export function checkBind(host: string, access: Access): void {
  if (!isLoopback(host) && access.activeKeyCount() === 0) {
    throw new Error(`listening on ${host} (beyond this machine) needs at least one API key; create one first (karakoram serve --create-key NAME, or the Server page), then start again`);
  }
}

export function startServer(core: Core, opts: ServerOptions): Promise<RunningServer> {
  try { checkBind(opts.host, opts.access); } catch (e) { return Promise.reject(e); }
  const access = opts.access;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const secure = !!opts.tls;
  let wsOrigin: string | null = null;
  const queue = new AdmissionQueue(opts.queue ?? DEFAULT_QUEUE_LIMITS);
  const metrics = new ServerMetrics();
  const inflight = new InFlight();
  const deps = { gen: new ServerGeneration(core.models, () => core.providers.remotes()), queue, metrics, keys: core.store.keys, maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, access, inflight };
  const sockets = new Map<WebSocket, { id: number; principal: Principal; remote: string; since: number }>();
  const httpConns = new Map<Socket, { id: number; remote: string; since: number; keyId: string | null; keyName: string | null }>();
  let nextConn = 1;

  const cookie = (token: string, maxAgeS: number) =>
    `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const headers = securityHeaders(wsOrigin);
    if (!hostAllowed(req, opts.host)) {
      res.writeHead(403, { ...headers, 'content-type': 'text/plain' }).end('forbidden host\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith('/v1/') || path === '/v1') {
      const p = apiPrincipal(access, req);
      const conn = httpConns.get(req.socket);
      if (conn && p) { conn.keyId = p.keyId; conn.keyName = p.name; }
      void handleApi(deps, req, res, path);
      return;
    }
    const principal = access.principalFor(req);
    if (path === '/healthz') {
      // Without a credential it says only that the server is up.
      res.writeHead(200, { ...headers, 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(principal ? { ok: true, engine: core.models.status() } : { ok: true }));
      return;
    }
    if (path === LOGIN_SCRIPT_PATH) {
      res.writeHead(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }).end(LOGIN_SCRIPT);
      return;
    }
    if (path === LOGIN_PATH && req.method === 'POST') {
      readJson(req, MAX_LOGIN_BODY_BYTES).then((body) => {
        const key = body && typeof body === 'object' && typeof (body as { key?: unknown }).key === 'string' ? (body as { key: string }).key : '';
        const s = access.login(key);
        if (!s) throw new ApiError('authentication', 'that API key is not valid (or was revoked)');
        res.writeHead(200, { ...headers, 'content-type': 'application/json', 'set-cookie': cookie(s.token, SESSION_TTL_MS / 1000) })
          .end(JSON.stringify({ ok: true, name: s.principal.name }));
      }).catch((e: unknown) => {
        const err = e instanceof ApiError ? e : new ApiError('invalid_request', String(e));
        if (!res.headersSent) res.writeHead(err.status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: err.message } }));
      });
      return;
    }
    if (path === LOGOUT_PATH && req.method === 'POST') {
      const c = credentialOf(req);
      if (c.session) access.logout(c.session);
      res.writeHead(200, { ...headers, 'content-type': 'application/json', 'set-cookie': cookie('', 0) }).end('{"ok":true}');
      return;
    }
    if (!principal) {
      if (path === '/metrics' || path === WS_PATH) {
        res.writeHead(401, { ...headers, 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="karakoram"' }).end('an API key is required\n');
        return;
      }
      // The app is not served to a browser that has not logged in.
      res.writeHead(401, { ...headers, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : LOGIN_PAGE);
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { ...headers, 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
      res.end(metrics.render(queue.snapshot(), httpConns.size + sockets.size, deps.gen.engineInFlight()));
      return;
    }
    if (path === WS_PATH) { res.writeHead(426, { ...headers, 'content-type': 'text/plain' }).end('use a WebSocket\n'); return; }
    serveStatic(opts.appDir, req, res, headers);
  };

  const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createServer(onRequest);
  server.on('connection', (sock: Socket) => {
    httpConns.set(sock, { id: nextConn++, remote: `${sock.remoteAddress}:${sock.remotePort}`, since: Date.now(), keyId: null, keyName: null });
    sock.once('close', () => httpConns.delete(sock));
  });
  server.on('secureConnection', (sock: Socket) => {
    httpConns.set(sock, { id: nextConn++, remote: `${sock.remoteAddress}:${sock.remotePort}`, since: Date.now(), keyId: null, keyName: null });
    sock.once('close', () => httpConns.delete(sock));
  });

  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH || !originAllowed(req) || !hostAllowed(req, opts.host)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    const principal = access.principalFor(req);
    if (!principal) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nan API key or a login is required\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.set(ws, { id: nextConn++, principal, remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`, since: Date.now() });
      ws.once('close', () => sockets.delete(ws));
      wss.emit('connection', ws, req);
    });
  });

  // A revoked key stops at once: its sockets close and its API streams end.
  const offRevoke = access.onRevoke((keyId) => {
    for (const [ws, s] of sockets) if (s.principal.keyId === keyId) ws.close(4401, 'API key revoked');
    inflight.abortKey(keyId);
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
      const who = sockets.get(ws)?.principal;
      if (!who || (needsAdmin(frame.data.method, frame.data.params) && !who.admin)) {
        send(ws, { kind: 'response', id: frame.data.id, ok: false, error: { code: 'forbidden', message: `${frame.data.method} needs the workstation owner's key` } });
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
      const url = `${secure ? 'https' : 'http'}://${hostForUrl}:${port}`;
      wsOrigin = `${secure ? 'wss' : 'ws'}://${hostForUrl}:${port}`;
      resolve({
        server, url, port, queue, metrics,
        connections: () => [
          ...[...httpConns.values()].map((c) => ({ id: c.id, kind: 'http' as const, keyId: c.keyId, keyName: c.keyName, remote: c.remote, since: c.since })),
          ...[...sockets.values()].map((s) => ({ id: s.id, kind: 'websocket' as const, keyId: s.principal.keyId, keyName: s.principal.name, remote: s.remote, since: s.since })),
        ],
        close: () => new Promise<void>((res) => {
          unsubscribe();
          offRevoke();
          for (const ws of wss.clients) ws.terminate();
          wss.close();
          server.close(() => res());
          server.closeAllConnections();
        }),
      });
    });
  });
}
