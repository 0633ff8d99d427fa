// hf-cache.ts — the Hugging Face hub cache layout, so checkpoints other tools downloaded are found
// here and ours are usable by them (huggingface_hub's file_download.py layout):
//   $HF_HUB_CACHE (default $HF_HOME/hub, HF_HOME default ~/.cache/huggingface)
//     models--ORG--NAME/
//       blobs/<sha256 for LFS files, git blob id otherwise>   the bytes, once verified
//       snapshots/<commit>/<path>                              relative symlink to ../../blobs/<id>
//       refs/<revision>                                        the commit the revision pointed to
// A download in progress lives in blobs/<id>.part (with its range bookkeeping beside it): the
// name huggingface_hub ignores, so it never mistakes our sparse file for one of its own
// `.incomplete` appends.
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';

export function hfHome(): string {
  return process.env.HF_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface');
}

/** The hub cache folder: HF_HUB_CACHE, else HF_HOME/hub. */
export function hubCacheDir(): string {
  return process.env.HF_HUB_CACHE ?? join(hfHome(), 'hub');
}

/** models--ORG--NAME for ORG/NAME. */
export function repoFolderName(repo: string): string {
  return `models--${repo.split('/').join('--')}`;
}

/** ORG/NAME for a models--ORG--NAME folder; null for anything else (datasets--, spaces--, junk). */
export function repoFromFolder(name: string): string | null {
  const m = /^models--([^-].*?)--(.+)$/.exec(name);
  return m ? `${m[1]}/${m[2]}` : null;
}

export interface CacheRepo { root: string; blobs: string; snapshots: string; refs: string }

export function cacheRepo(cacheDir: string, repo: string): CacheRepo {
  const root = join(cacheDir, repoFolderName(repo));
  return { root, blobs: join(root, 'blobs'), snapshots: join(root, 'snapshots'), refs: join(root, 'refs') };
}

export const snapshotDir = (r: CacheRepo, commit: string) => join(r.snapshots, commit);

/** The commit a revision points to in the cache (refs/REV), or REV itself when it is a commit hash. */
export function readRef(r: CacheRepo, revision: string): string | null {
  const p = join(r.refs, revision);
  if (existsSync(p)) return readFileSync(p, 'utf8').trim() || null;
  return /^[0-9a-f]{40}$/.test(revision) && existsSync(snapshotDir(r, revision)) ? revision : null;
}

export function writeRef(r: CacheRepo, revision: string, commit: string): void {
  if (revision === commit) return;
  const p = join(r.refs, revision);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(`${p}.tmp`, commit);
  renameSync(`${p}.tmp`, p);
}

/** Points snapshots/COMMIT/PATH at blobs/ID with a relative symlink (as huggingface_hub does). */
export function linkSnapshot(r: CacheRepo, commit: string, path: string, blobId: string): void {
  const link = join(snapshotDir(r, commit), path);
  mkdirSync(dirname(link), { recursive: true });
  const target = relative(dirname(link), join(r.blobs, blobId));
  try {
    if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === target) return;
    rmSync(link, { force: true });
  } catch { /* not there yet */ }
  symlinkSync(target, link);
}
