// api-router.ts — the /v1 routes (OpenAI and Anthropic families) and /metrics. Every route needs
// an API key (Authorization: Bearer or x-api-key; a browser session cookie is not accepted here,
// so no other web page can spend a logged-in user's key). Errors are written in the family's own
// shape, with Retry-After on 429 / 503.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialOf, type Access, type Principal } from './auth/access.ts';
import { recordUsage, type ApiContext, type ApiDeps } from './api-context.ts';
import { countTokens, messages } from './anthropic/messages.ts';
import { anthropicError } from './anthropic/errors.ts';
import { ApiError, toApiError } from './http/api-error.ts';
import { readJson } from './http/body.ts';
import { chatCompletions } from './openai/chat.ts';
import { completions } from './openai/completions.ts';
import { openaiError } from './openai/errors.ts';
import { getModel, listModels } from './openai/models.ts';
import { responses } from './openai/responses.ts';

type Family = 'openai' | 'anthropic';
interface Route { method: 'GET' | 'POST'; family: Family; api: string; run(ctx: ApiContext, body: unknown, arg: string): Promise<void> | void }

const ROUTES: Array<[RegExp, Route]> = [
  [/^\/v1\/models$/, { method: 'GET', family: 'openai', api: 'openai.models', run: (c) => listModels(c) }],
  [/^\/v1\/models\/(.+)$/, { method: 'GET', family: 'openai', api: 'openai.models', run: (c, _b, id) => getModel(c, id) }],
  [/^\/v1\/chat\/completions$/, { method: 'POST', family: 'openai', api: 'openai.chat', run: chatCompletions }],
  [/^\/v1\/completions$/, { method: 'POST', family: 'openai', api: 'openai.completions', run: completions }],
  [/^\/v1\/responses$/, { method: 'POST', family: 'openai', api: 'openai.responses', run: responses }],
  [/^\/v1\/messages$/, { method: 'POST', family: 'anthropic', api: 'anthropic.messages', run: messages }],
  [/^\/v1\/messages\/count_tokens$/, { method: 'POST', family: 'anthropic', api: 'anthropic.count_tokens', run: countTokens }],
];

/** In-flight API requests per key, so a revoked key's streams end at once. */
export class InFlight {
  private readonly byKey = new Map<string, Set<AbortController>>();
  add(keyId: string, c: AbortController): () => void {
    const set = this.byKey.get(keyId) ?? new Set();
    set.add(c);
    this.byKey.set(keyId, set);
    return () => { set.delete(c); if (!set.size) this.byKey.delete(keyId); };
  }
  abortKey(keyId: string): void { for (const c of this.byKey.get(keyId) ?? []) c.abort(); }
  count(): number { let n = 0; for (const s of this.byKey.values()) n += s.size; return n; }
}

function familyOf(path: string): Family { return path.startsWith('/v1/messages') ? 'anthropic' : 'openai'; }

export function writeApiError(res: ServerResponse, family: Family, e: ApiError): void {
  if (res.headersSent) { if (!res.writableEnded) res.end(); return; }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (e.opts.retryAfterS !== undefined) headers['retry-after'] = String(e.opts.retryAfterS);
  if (e.status === 401) headers['www-authenticate'] = 'Bearer realm="karakoram"';
  res.writeHead(e.status, headers).end(JSON.stringify(family === 'anthropic' ? anthropicError(e) : openaiError(e)));
}

export interface RouterDeps extends ApiDeps { access: Access; inflight: InFlight }

/** The caller of an API route: an API key in a header only. */
export function apiPrincipal(access: Access, req: IncomingMessage): Principal | null {
  const c = credentialOf(req);
  return c.key ? access.authenticate(c.key) : null;
}

export async function handleApi(deps: RouterDeps, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const family = familyOf(path);
  const receivedAt = performance.now();
  let api = 'unknown';
  let principal: Principal | null = null;
  const ctrl = new AbortController();
  // The client going away (closed socket before the answer ended) cancels the request.
  res.on('close', () => { if (!res.writableFinished) ctrl.abort(); });
  let untrack = () => { /* not tracked yet */ };
  try {
    principal = apiPrincipal(deps.access, req);
    if (!principal) throw new ApiError('authentication', 'a valid API key is required (Authorization: Bearer KEY or x-api-key: KEY)');
    untrack = deps.inflight.add(principal.keyId, ctrl);
    const hit = ROUTES.map(([re, r]) => [re.exec(path), r] as const).find(([m]) => m !== null);
    if (!hit) throw new ApiError('not_found', `no route ${req.method} ${path}`);
    const [m, route] = hit;
    api = route.api;
    if (req.method !== route.method) throw new ApiError('invalid_request', `${path} takes ${route.method}, not ${req.method}`);
    const body = route.method === 'POST' ? await readJson(req, deps.maxBodyBytes) : undefined;
    const ctx: ApiContext = { deps, req, res, principal, signal: ctrl.signal, receivedAt, api };
    await route.run(ctx, body, decodeURIComponent(m![1] ?? ''));
    deps.metrics.request(api, res.statusCode);
  } catch (e) {
    const err = toApiError(e);
    if (err.kind === 'internal') console.error(`karakoram serve: ${api} failed: ${err.message}`);
    deps.metrics.request(api, err.status);
    if (principal) recordUsage(deps.keys, principal.keyId, { requests: 1, errors: 1 });
    writeApiError(res, family, err);
  } finally {
    untrack();
  }
}
