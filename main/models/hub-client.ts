// hub-client.ts — the Hub's search and a repository's config.json, the two reads the Models page
// needs besides the file tree (hub-files.ts). Plain fetches against the documented endpoints
// (GET /api/models?search=, /ORG/NAME/resolve/REV/config.json), the endpoint configurable.
import type { Config } from './config.ts';
import { hubHeaders, httpError, resolveUrl, type HubAccess } from './hub-files.ts';

/** Results one search asks for: a page the Models page shows without scrolling far. */
export const SEARCH_LIMIT = 30;

export interface HubModel { id: string; downloads: number; likes: number; gated: boolean }

export async function searchModels(endpoint: string, query: string, token?: string, signal?: AbortSignal): Promise<HubModel[]> {
  const url = `${endpoint}/api/models?search=${encodeURIComponent(query)}&sort=downloads&direction=-1&limit=${SEARCH_LIMIT}`;
  const a: HubAccess = { endpoint, repo: '(search)', token, signal };
  const r = await fetch(url, { headers: hubHeaders(a), signal });
  if (!r.ok) throw httpError(url, r, a);
  const body: unknown = await r.json();
  if (!Array.isArray(body)) throw new Error(`${url}: expected a JSON array of models`);
  return (body as Array<Record<string, unknown>>).flatMap((m) => {
    const id = typeof m.id === 'string' ? m.id : typeof m.modelId === 'string' ? m.modelId : null;
    if (!id) return [];
    return [{ id, downloads: Number(m.downloads) || 0, likes: Number(m.likes) || 0, gated: !!m.gated && m.gated !== 'false' }];
  });
}

/** The repository's config.json (what sizes and plans it before a download). */
export async function fetchConfig(a: HubAccess): Promise<Config> {
  const url = resolveUrl(a, 'config.json');
  const r = await fetch(url, { headers: hubHeaders(a), signal: a.signal });
  if (!r.ok) throw httpError(url, r, a);
  const v: unknown = await r.json().catch(() => null);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${url}: not a JSON object`);
  return v as Config;
}
