// static.ts — serves the built renderer (dist/app) with a strict Content-Security-Policy. Only
// files under the root are served; unknown paths without an extension get index.html (the app
// routes on the client).
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8', '.wasm': 'application/wasm',
};

/**
 * The renderer's policy: its own scripts only (no inline, no eval), its own origin for data and
 * the WebSocket; inline styles are allowed because KaTeX and syntax highlighting set them.
 */
export function contentSecurityPolicy(wsOrigin: string | null): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${wsOrigin ? ` ${wsOrigin}` : ''}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function securityHeaders(wsOrigin: string | null): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(wsOrigin),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'x-frame-options': 'DENY',
  };
}

const MISSING_PAGE = `<!doctype html><meta charset="utf-8"><title>Karakoram</title>
<h1>Karakoram</h1><p>The renderer is not built. Run <code>npm run build:app</code> and reload.</p>`;

export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400, { ...headers, 'content-type': 'text/plain' }).end('bad path\n');
    return;
  }
  if (pathname.includes('\0')) { res.writeHead(400, headers).end(); return; }
  const rel = normalize(pathname).replace(/^([/\\])+/, '');
  let file = join(root, rel);
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) {
    res.writeHead(403, { ...headers, 'content-type': 'text/plain' }).end('forbidden\n');
    return;
  }
  if (!existsSync(file) || statSync(file).isDirectory()) {
    if (extname(rel)) { res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found\n'); return; }
    file = join(root, 'index.html');
  }
  if (!existsSync(file)) {
    res.writeHead(503, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(MISSING_PAGE);
    return;
  }
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  // Hashed asset names can be cached forever; index.html must always be fresh.
  const cache = /[/\\]assets[/\\]/.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache';
  res.writeHead(200, { ...headers, 'content-type': type, 'cache-control': cache, 'content-length': statSync(file).size });
  if (req.method === 'HEAD') { res.end(); return; }
  createReadStream(file).pipe(res);
}
