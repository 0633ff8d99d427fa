// hub-files.ts — the Hub's file listing for one repository revision (sizes and LFS sha256, via
// @huggingface/hub's listFiles, which follows the tree's pagination), and the hub's refusals
// turned into messages that say what to do (a gated repo names the token setting).
// @huggingface/hub is imported when first needed: it brings its Xet upload machinery (wasm)
// along, which a core that never talks to the hub should not load at start.

export interface RemoteFile { path: string; size?: number; sha256?: string; oid?: string }  // oid: the git blob id

export interface HubAccess {
  endpoint: string;              // e.g. https://huggingface.co (HF_ENDPOINT)
  repo: string;                  // owner/name
  revision?: string;             // default "main"
  token?: string;                // bearer token for gated repos
  signal?: AbortSignal;
}

/** Where a token for gated repositories is read from (the CLI and the app's setting of the same name). */
export const TOKEN_SETTING = 'HF_TOKEN';

// Files a K2-family model needs besides its weight shards.
const MODEL_FILES = [/^config\.json$/, /^generation_config\.json$/, /^tokenizer_config\.json$/, /^tiktoken\.model$/,
  /^chat_template\.jinja$/, /^model\.safetensors\.index\.json$/, /^model-[^/]*\.safetensors$/, /^model\.safetensors$/, /^README\.md$/];

export function hubHeaders(a: HubAccess, extra: Record<string, string> = {}): Record<string, string> {
  return { 'user-agent': 'karakoram', ...(a.token ? { authorization: `Bearer ${a.token}` } : {}), ...extra };
}

/** A hub refusal with what to do about it: 401/403 on a gated repository names the token setting. */
export function statusError(what: string, status: number, statusText: string, a: HubAccess): Error {
  if (status === 401 || status === 403) {
    return new Error(`${what}: HTTP ${status}: ${a.repo} is gated or private. ${a.token
      ? `The token in ${TOKEN_SETTING} has no access to it: accept the model's terms on the hub with that account, or use another token.`
      : `Set ${TOKEN_SETTING} (environment, or the Hugging Face token setting in the app) to a token with access.`}`);
  }
  return new Error(`${what}: HTTP ${status} ${statusText}`.trimEnd());
}

export function httpError(what: string, r: Response, a: HubAccess): Error {
  return statusError(what, r.status, r.statusText, a);
}

/** @huggingface/hub's errors in the same words: a refusal names the token setting; a malformed token says so. */
export function hubLibraryError(what: string, e: unknown, a: HubAccess): Error {
  const status = (e as { statusCode?: unknown })?.statusCode;   // HubApiError
  if (e instanceof Error && typeof status === 'number') return statusError(what, status, e.message, a);
  if (e instanceof TypeError && /access token must start with 'hf_'/.test(e.message)) {
    return new Error(`${what}: the token in ${TOKEN_SETTING} is not a Hugging Face token (they start with hf_)`);
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** A fetch bound to the caller's abort signal, for @huggingface/hub's calls. */
export const fetchWith = (signal?: AbortSignal): typeof fetch => (input, init) => fetch(input, { ...init, signal });

export function resolveUrl(a: HubAccess, path: string): string {
  return `${a.endpoint}/${a.repo}/resolve/${encodeURIComponent(a.revision ?? 'main')}/${path}`;
}

/** Lists the repository's files the engine needs, with sizes and LFS sha256 where the hub gives them. */
export async function listRemoteFiles(a: HubAccess): Promise<RemoteFile[]> {
  const rev = a.revision ?? 'main';
  const files: RemoteFile[] = [];
  const { listFiles } = await import('@huggingface/hub');
  try {
    for await (const e of listFiles({ repo: { type: 'model', name: a.repo }, revision: rev, recursive: true, hubUrl: a.endpoint, accessToken: a.token, fetch: fetchWith(a.signal) })) {
      if (e.type !== 'file' || !MODEL_FILES.some((re) => re.test(e.path))) continue;
      files.push({ path: e.path, size: typeof e.size === 'number' ? e.size : e.lfs?.size, sha256: e.lfs?.oid, oid: e.oid });
    }
  } catch (e) { throw hubLibraryError(`${a.endpoint}/api/models/${a.repo}/tree/${rev}`, e, a); }
  if (!files.some((f) => f.path === 'config.json')) throw new Error(`${a.repo}@${rev} has no config.json: not a model repository`);
  return files;
}

/**
 * The commit a revision points to: the hub's X-Repo-Commit on a resolve (what huggingface_hub
 * reads too), asked without following the redirect. Null when the hub does not say.
 */
export async function resolveCommit(a: HubAccess): Promise<string | null> {
  const url = resolveUrl(a, 'config.json');
  const r = await fetch(url, { method: 'HEAD', redirect: 'manual', headers: hubHeaders(a), signal: a.signal });
  if (r.status === 401 || r.status === 403 || r.status === 404) throw httpError(url, r, a);
  const c = r.headers.get('x-repo-commit');
  return c && /^[0-9a-f]{40}$/.test(c) ? c : null;
}
