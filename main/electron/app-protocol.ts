// app-protocol.ts — the app:// scheme of the Electron window: app://karakoram/PATH is a file
// under dist/app, served with the renderer's security headers (the same CSP as web mode). Paths
// outside the folder are refused; unknown routes without an extension get index.html.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { securityHeaders } from '../server/static.ts';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.woff': 'font/woff',
  '.ttf': 'font/ttf', '.ico': 'image/x-icon', '.wasm': 'application/wasm',
};

export function serveApp(appDir: string, url: string): Response {
  const headers = securityHeaders(null);
  let pathname: string;
  try { pathname = decodeURIComponent(new URL(url).pathname); } catch { return new Response('bad url', { status: 400, headers }); }
  if (pathname.includes('\0')) return new Response('bad url', { status: 400, headers });
  const rel = normalize(pathname).replace(/^([/\\])+/, '');
  let file = join(appDir, rel);
  if (!file.startsWith(appDir + sep) && file !== appDir) return new Response('forbidden', { status: 403, headers });
  if (!existsSync(file) || statSync(file).isDirectory()) {
    if (extname(rel)) return new Response('not found', { status: 404, headers });
    file = join(appDir, 'index.html');
  }
  if (!existsSync(file)) {
    return new Response('<!doctype html><meta charset="utf-8"><h1>Karakoram</h1><p>The renderer is not built: run <code>npm run build:app</code>.</p>',
      { status: 503, headers: { ...headers, 'content-type': 'text/html; charset=utf-8' } });
  }
  return new Response(readFileSync(file), { status: 200, headers: { ...headers, 'content-type': MIME[extname(file)] ?? 'application/octet-stream' } });
}
