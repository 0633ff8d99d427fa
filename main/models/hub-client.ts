// hub-client.ts — the Hub's search (@huggingface/hub's listModels) and a repository's
// config.json, the two reads the Models page needs besides the file tree (hub-files.ts); the
// endpoint configurable, the token for gated repos passed through.
import type { Config } from './config.ts';
import { fetchWith, hubHeaders, httpError, hubLibraryError, resolveUrl, type HubAccess } from './hub-files.ts';

/** Results one search asks for: a page the Models page shows without scrolling far. */
export const SEARCH_LIMIT = 30;

export interface HubModel { id: string; downloads: number; likes: number; gated: boolean }

export async function searchModels(endpoint: string, query: string, token?: string, signal?: AbortSignal): Promise<HubModel[]> {
  const a: HubAccess = { endpoint, repo: '(search)', token, signal };
  const out: HubModel[] = [];
  const { listModels } = await import('@huggingface/hub');   // loaded when first needed (hub-files.ts says why)
  try {
    for await (const m of listModels({ search: { query }, sort: 'downloads', limit: SEARCH_LIMIT, hubUrl: endpoint, accessToken: token, fetch: fetchWith(signal) })) {
      // listModels' `name` is the repo id (its `id` is the hub's internal one).
      out.push({ id: m.name, downloads: Number(m.downloads) || 0, likes: Number(m.likes) || 0, gated: !!m.gated });
    }
  } catch (e) { throw hubLibraryError(`${endpoint}/api/models?search=${query}`, e, a); }
  return out;
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
