// http-errors.ts — turns what can go wrong talking to a remote endpoint into a ProviderError a
// person can act on: the server is not there, the URL is not an OpenAI API, the key is refused,
// the model is not served, the request was refused (context too long), the server failed.
import { ProviderError } from './types.ts';

/** Longest server error text quoted in a message. */
const MAX_QUOTED_CHARS = 300;

/** Base URL as OpenAI clients take it: no trailing slash; a bare host gets /v1. */
export function normalizeBaseUrl(input: string): string {
  const u = new URL(input.trim());
  let path = u.pathname.replace(/\/+$/, '');
  if (path === '') path = '/v1';
  return `${u.protocol}//${u.host}${path}`;
}

/** fetch() rejected: no connection (refused, unknown host, timeout, TLS). */
export function unreachable(e: unknown, url: string): ProviderError {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? '';
  const host = safeHost(url);
  if ((e as Error)?.name === 'TimeoutError') return new ProviderError('unreachable', `${host} did not answer in time`);
  const why = code === 'ECONNREFUSED' ? 'connection refused — is the server running on that port?'
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'no such host'
    : code === 'ECONNRESET' ? 'the connection was reset'
    : code.startsWith('ERR_TLS') || code.includes('CERT') ? `TLS failed (${code})`
    : cause?.message ?? (e as Error)?.message ?? String(e);
  return new ProviderError('unreachable', `could not reach ${host}: ${why}`);
}

/** The message inside an error body (OpenAI `{error:{message}}`, vLLM `{message}`, Ollama `{error}`). */
export function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown };
    const e = j.error;
    const msg = typeof e === 'string' ? e
      : e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message
      : typeof j.message === 'string' ? j.message
      : typeof j.detail === 'string' ? j.detail : null;
    if (msg) return clip(msg);
  } catch { /* not JSON: quote the text */ }
  return clip(body.trim());
}

/** A non-2xx answer from `what` (e.g. "GET /v1/models"). */
export function httpError(status: number, body: string, url: string, what: string): ProviderError {
  const host = safeHost(url);
  const said = errorText(body);
  const quote = said ? `: ${said}` : '';
  if (status === 401 || status === 403) {
    return new ProviderError('auth', `${host} refused the API key (${status})${quote}. Check the key in the remote's settings.`);
  }
  if (status === 404) {
    return new ProviderError('not_found', `${host} answered 404 to ${what}${quote}. Is the base URL the server's OpenAI API (it usually ends in /v1), and is the model id one it serves?`);
  }
  if (status === 400 || status === 413 || status === 422) return new ProviderError('bad_request', `${host} refused the request (${status})${quote}`);
  if (status === 429) return new ProviderError('server', `${host} is busy or rate-limited (429)${quote}; try again shortly`);
  return new ProviderError('server', `${host} failed (${status})${quote}`);
}

export function safeHost(url: string): string {
  try { return new URL(url).host; } catch { return url; }
}

function clip(s: string): string {
  return s.length > MAX_QUOTED_CHARS ? `${s.slice(0, MAX_QUOTED_CHARS - 1)}…` : s;
}
