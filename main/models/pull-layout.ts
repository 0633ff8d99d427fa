// pull-layout.ts — where a pull puts a repository's files: a plain folder (each file under its
// own name, `karakoram pull --models-dir`) or the hub cache (hf-cache.ts: the bytes in blobs/,
// named by their sha256, and snapshots/COMMIT/PATH linking to them), which other tools read too.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRepo, linkSnapshot, snapshotDir, writeRef, type CacheRepo } from './hf-cache.ts';
import type { RemoteFile } from './hub-files.ts';

export interface PullLayout {
  /** The folder a model loader opens (the plain folder, or the snapshot). */
  dir: string;
  /** Where the file's verified bytes go (its .part sits beside). */
  finalOf(f: RemoteFile): string;
  /** Already there with the right size: nothing to fetch. */
  complete(f: RemoteFile): boolean;
  /** After a file was verified and renamed into place. */
  placed(f: RemoteFile): void;
  /** Every file is in place. */
  finish(): void;
}

const sizeIs = (p: string, size: number | undefined) => existsSync(p) && (size === undefined || statSync(p).size === size);

export function flatLayout(dest: string): PullLayout {
  return {
    dir: dest,
    finalOf: (f) => join(dest, f.path),
    complete: (f) => sizeIs(join(dest, f.path), f.size),
    placed: () => undefined,
    finish: () => undefined,
  };
}

/** The blob name of a file: its LFS sha256, else its git blob id. */
export function blobId(f: RemoteFile): string {
  const id = f.sha256 ?? f.oid;
  if (!id) throw new Error(`${f.path}: the hub gave neither an LFS sha256 nor a git blob id for it; cannot place it in the cache`);
  return id;
}

export function cacheLayout(cacheDir: string, repo: string, revision: string, commit: string): PullLayout {
  const r: CacheRepo = cacheRepo(cacheDir, repo);
  const blob = (f: RemoteFile) => join(r.blobs, blobId(f));
  return {
    dir: snapshotDir(r, commit),
    finalOf: blob,
    // A blob another snapshot (or another tool) already fetched is linked, not fetched again.
    complete: (f) => {
      if (!sizeIs(blob(f), f.size)) return false;
      linkSnapshot(r, commit, f.path, blobId(f));
      return true;
    },
    placed: (f) => linkSnapshot(r, commit, f.path, blobId(f)),
    finish: () => writeRef(r, revision, commit),
  };
}
