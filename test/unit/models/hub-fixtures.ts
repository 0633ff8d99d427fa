// hub-fixtures.ts — the repositories the download tests serve: tiny-k2 (the shared fixture) and
// the demo model, and helpers to check a download byte for byte.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { repoFromDir, type HubRepo } from './hub-server.ts';

export const ROOT = join(__dirname, '../../..');
const SHARED = process.env.KK_SHARED ?? join(ROOT, '../shared');
export const TINY = repoFromDir(join(SHARED, 'fixtures/tiny-k2'));
export const DEMO = repoFromDir(join(ROOT, 'assets/models/demo-k2'));

export const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `kk-${tag}-`));

/** Every file of the repo is in dest with the same bytes, and no partial file is left. */
export function expectVerified(dest: string, repo: HubRepo): void {
  for (const f of repo.files) expect(readFileSync(join(dest, f.path)).equals(f.data), f.path).toBe(true);
  expect(readdirSync(dest).filter((n) => n.includes('.part'))).toEqual([]);
}

/** Requests for one file's blob in a hub request log. */
export const blobRequests = (log: string[], path: string) => log.filter((r) => r.startsWith(`GET /blobs/${path} `));
