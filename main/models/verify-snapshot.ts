// verify-snapshot.ts — re-reads a hub cache snapshot's files against the names of their blobs,
// offline: an LFS blob is named by its sha256, any other by its git blob id (sha1 of
// "blob LEN\0" + bytes). A damaged blob is removed, so the next pull fetches exactly that file.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface SnapshotCheck { ok: boolean; checked: number; damaged: string[]; missing: string[] }

async function digest(path: string, h: Hash): Promise<string> {
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

function linksUnder(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    const st = lstatSync(p);
    if (st.isDirectory()) out.push(...linksUnder(p));
    else if (st.isSymbolicLink()) out.push(p);
  }
  return out;
}

export async function verifySnapshot(snapshot: string): Promise<SnapshotCheck> {
  const damaged: string[] = [];
  const missing: string[] = [];
  let checked = 0;
  for (const link of linksUnder(snapshot)) {
    const path = relative(snapshot, link);
    const blob = resolve(dirname(link), readlinkSync(link));
    const id = basename(blob);
    let size: number;
    try { size = statSync(blob).size; } catch { missing.push(path); continue; }
    let got: string;
    if (/^[0-9a-f]{64}$/.test(id)) got = await digest(blob, createHash('sha256'));
    else if (/^[0-9a-f]{40}$/.test(id)) { const h = createHash('sha1'); h.update(`blob ${size}\0`); got = await digest(blob, h); }
    else continue;   // a blob name that is no hash: nothing to check it against
    checked++;
    if (got !== id) { damaged.push(path); rmSync(blob, { force: true }); }
  }
  return { ok: damaged.length === 0 && missing.length === 0, checked, damaged, missing };
}
