// check-remote.ts — the configuration-time check of a remote endpoint: GET {base}/models with the
// key. A wrong URL, a server that is not there, a refused key, a page that is not an OpenAI API
// and a model the server does not serve each get their own message, before any chat depends on it.
import type { RemoteCheck, RemoteModel } from '../../common/providers.ts';
import { httpError, normalizeBaseUrl, safeHost, unreachable } from './http-errors.ts';
import { ProviderError } from './types.ts';

/** How long the check waits for the server. */
export const CHECK_TIMEOUT_MS = 10_000;

export interface CheckInput { baseUrl: string; apiKey: string; model: string }

export function authHeaders(apiKey: string): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

/** Lists the server's models; throws a ProviderError saying what is wrong. */
export async function listRemoteModels(baseUrl: string, apiKey: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<RemoteModel[]> {
  const url = `${baseUrl}/models`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...authHeaders(apiKey) }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw unreachable(e, url);
  }
  const body = await res.text();
  if (!res.ok) throw httpError(res.status, body, url, `GET ${new URL(url).pathname}`);
  let j: unknown;
  try { j = JSON.parse(body); } catch {
    throw new ProviderError('not_found', `${safeHost(url)} answered GET ${new URL(url).pathname} with something that is not JSON: is this the server's OpenAI API base URL (usually ending in /v1)?`);
  }
  const data = (j as { data?: unknown }).data;
  if (!Array.isArray(data)) throw new ProviderError('not_found', `${safeHost(url)} did not answer GET ${new URL(url).pathname} like an OpenAI-compatible server (no "data" list)`);
  return data.filter((m): m is { id: string } => !!m && typeof (m as { id?: unknown }).id === 'string').map((m) => {
    // vLLM and SGLang say the context length; others do not.
    const r = m as { id: string; max_model_len?: unknown; context_length?: unknown };
    const ctx = typeof r.max_model_len === 'number' ? r.max_model_len : typeof r.context_length === 'number' ? r.context_length : null;
    return { id: r.id, maxContext: ctx !== null && Number.isInteger(ctx) && ctx > 0 ? ctx : null };
  });
}

/** The whole check: never throws; `error` says what to fix. */
export async function checkRemote(input: CheckInput, timeoutMs = CHECK_TIMEOUT_MS): Promise<RemoteCheck> {
  let baseUrl: string;
  try { baseUrl = normalizeBaseUrl(input.baseUrl); } catch {
    return { ok: false, error: `${JSON.stringify(input.baseUrl)} is not a URL (for example http://gpu-box:8000/v1)`, baseUrl: input.baseUrl, models: [], maxContext: null };
  }
  try {
    const models = await listRemoteModels(baseUrl, input.apiKey, timeoutMs);
    const m = models.find((x) => x.id === input.model);
    if (!m) {
      const served = models.length ? models.map((x) => x.id).join(', ') : 'none';
      return { ok: false, error: `${safeHost(baseUrl)} does not serve a model called ${JSON.stringify(input.model)}; it serves: ${served}`, baseUrl, models, maxContext: null };
    }
    return { ok: true, error: null, baseUrl, models, maxContext: m.maxContext };
  } catch (e) {
    return { ok: false, error: (e as Error).message, baseUrl, models: [], maxContext: null };
  }
}
