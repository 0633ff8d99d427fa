// library.ts — the models on this machine: every snapshot in the hub cache (ours, or another
// tool's: hf-cache.ts) and every model folder in the folders the user added, each with its
// architecture, quantization, size on disk and whether it is complete (config.json and every
// weight shard its index names are there, and no file of it is still downloading).
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigFile, textModelConfig } from './config.ts';
import { readRef, repoFromFolder } from './hf-cache.ts';
import { weightFormat } from './sizes.ts';

export interface LibraryModel {
  dir: string;                   // what a load opens
  repo: string | null;           // ORG/NAME for a hub cache snapshot
  commit: string | null;
  refs: string[];                // revisions (e.g. main) pointing at this snapshot
  source: 'hub-cache' | 'folder';
  architecture: string;
  quantization: string;          // int4 / fp8 / bf16, or why it is unknown
  sizeOnDiskBytes: number;       // bytes of the files present (blobs counted once)
  complete: boolean;
  missing: string[];             // what keeps it from being complete
}

const WEIGHTS = /^model.*\.safetensors$/;
const INDEX = 'model.safetensors.index.json';

/** The shard names the index lists, or the safetensors present when there is no index. */
function shardsOf(dir: string, names: string[]): string[] | null {
  if (!names.includes(INDEX)) return names.filter((n) => WEIGHTS.test(n));
  try {
    const idx = JSON.parse(readFileSync(join(dir, INDEX), 'utf8')) as { weight_map?: Record<string, string> };
    return [...new Set(Object.values(idx.weight_map ?? {}))];
  } catch { return null; }
}

type Origin = Pick<LibraryModel, 'repo' | 'commit' | 'refs' | 'source'>;

function describe(dir: string, origin: Origin, downloading: boolean): LibraryModel | null {
  let names: string[];
  try { names = readdirSync(dir); } catch { return null; }
  if (!names.includes('config.json') && !names.some((n) => WEIGHTS.test(n))) return null;
  const missing: string[] = [];
  let architecture = 'unknown';
  let quantization = 'unknown';
  if (!existsSync(join(dir, 'config.json'))) missing.push('config.json');
  else {
    try {
      const tc = textModelConfig(readConfigFile(dir));
      architecture = tc.architecture;
      try { quantization = weightFormat(tc.quant); } catch (e) { quantization = `unsupported (${(e as Error).message})`; }
    } catch (e) { missing.push(`a readable config.json (${(e as Error).message})`); }
  }
  const shards = shardsOf(dir, names);
  if (shards === null) missing.push(`a readable ${INDEX}`);
  else if (!shards.length) missing.push('weights (*.safetensors)');
  else for (const s of shards) if (!existsSync(join(dir, s))) missing.push(s);   // a dangling link counts as missing
  if (downloading) missing.push('files still downloading');
  // Size on disk: each real file once (snapshots link into blobs; two paths may share one).
  const seen = new Set<string>();
  let size = 0;
  for (const n of names) {
    try {
      const real = realpathSync(join(dir, n));
      if (seen.has(real)) continue;
      seen.add(real);
      const st = statSync(real);
      if (st.isFile()) size += st.size;
    } catch { /* dangling link: not on disk */ }
  }
  return { dir, ...origin, architecture, quantization, sizeOnDiskBytes: size, complete: missing.length === 0, missing };
}

/** Every snapshot of every model repo in a hub cache folder. */
export function scanHubCache(cacheDir: string): LibraryModel[] {
  if (!existsSync(cacheDir)) return [];
  const out: LibraryModel[] = [];
  for (const folder of readdirSync(cacheDir).sort()) {
    const repo = repoFromFolder(folder);
    if (!repo) continue;
    const root = join(cacheDir, folder);
    const snaps = join(root, 'snapshots');
    if (!existsSync(snaps)) continue;
    let blobs: string[] = [];
    try { blobs = readdirSync(join(root, 'blobs')); } catch { /* no blobs yet */ }
    const downloading = blobs.some((b) => b.endsWith('.part') || b.endsWith('.incomplete'));
    let refNames: string[] = [];
    try { refNames = readdirSync(join(root, 'refs')); } catch { /* no refs */ }
    const r = { root, blobs: join(root, 'blobs'), snapshots: snaps, refs: join(root, 'refs') };
    for (const commit of readdirSync(snaps).sort()) {
      const refs = refNames.filter((n) => readRef(r, n) === commit);
      const m = describe(join(snaps, commit), { repo, commit, refs, source: 'hub-cache' }, downloading);
      if (m) out.push(m);
    }
  }
  return out;
}

/** A folder the user added: itself when it is a model, else each model folder inside it. */
export function scanFolder(dir: string): LibraryModel[] {
  if (!existsSync(dir)) return [];
  const self = describe(dir, { repo: null, commit: null, refs: [], source: 'folder' }, false);
  if (self) return [self];
  const out: LibraryModel[] = [];
  for (const n of readdirSync(dir).sort()) {
    const sub = join(dir, n);
    try { if (!statSync(sub).isDirectory()) continue; } catch { continue; }
    const m = describe(sub, { repo: null, commit: null, refs: [], source: 'folder' }, readdirSync(sub).some((f) => f.endsWith('.part')));
    if (m) out.push(m);
  }
  return out;
}

export function scanLibrary(cacheDirs: string[], folders: string[]): LibraryModel[] {
  const out: LibraryModel[] = [];
  const seen = new Set<string>();
  for (const m of [...cacheDirs.flatMap(scanHubCache), ...folders.flatMap(scanFolder)]) {
    if (seen.has(m.dir)) continue;
    seen.add(m.dir);
    out.push(m);
  }
  return out;
}
