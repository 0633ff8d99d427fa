// download-store.ts — the model library's downloads as rows, so a download started before an app
// restart is found (and resumed) after it. Progress is written at most every few seconds by the
// service; the authoritative record of which bytes arrived is the range bookkeeping beside
// each .part file, so a row that lags behind never makes a range count twice.
import type Database from 'better-sqlite3';
import type { DownloadState } from '../../common/library.ts';

export interface DownloadRow {
  id: string; repo: string; revision: string; endpoint: string; state: DownloadState;
  doneBytes: number; totalBytes: number; dir: string | null; error: string | null; createdAt: number; updatedAt: number;
}

interface Raw {
  id: string; repo: string; revision: string; endpoint: string; state: DownloadState;
  done_bytes: number; total_bytes: number; dir: string | null; error: string | null; created_at: number; updated_at: number;
}

const fromRaw = (r: Raw): DownloadRow => ({
  id: r.id, repo: r.repo, revision: r.revision, endpoint: r.endpoint, state: r.state, doneBytes: r.done_bytes,
  totalBytes: r.total_bytes, dir: r.dir, error: r.error, createdAt: r.created_at, updatedAt: r.updated_at,
});

export type DownloadPatch = Partial<Pick<DownloadRow, 'state' | 'doneBytes' | 'totalBytes' | 'dir' | 'error' | 'endpoint'>>;

const COLUMNS: Record<keyof DownloadPatch, string> = {
  state: 'state', doneBytes: 'done_bytes', totalBytes: 'total_bytes', dir: 'dir', error: 'error', endpoint: 'endpoint',
};

export class DownloadStore {
  constructor(private readonly db: Database.Database) {}

  list(): DownloadRow[] {
    return (this.db.prepare('SELECT * FROM downloads ORDER BY created_at, id').all() as Raw[]).map(fromRaw);
  }

  get(id: string): DownloadRow | null {
    const r = this.db.prepare('SELECT * FROM downloads WHERE id = ?').get(id) as Raw | undefined;
    return r ? fromRaw(r) : null;
  }

  /** The download of repo@revision, if one was ever started (one row per repo and revision). */
  find(repo: string, revision: string): DownloadRow | null {
    const r = this.db.prepare('SELECT * FROM downloads WHERE repo = ? AND revision = ?').get(repo, revision) as Raw | undefined;
    return r ? fromRaw(r) : null;
  }

  insert(row: DownloadRow): void {
    this.db.prepare(`INSERT INTO downloads (id, repo, revision, endpoint, state, done_bytes, total_bytes, dir, error, created_at, updated_at)
      VALUES (@id, @repo, @revision, @endpoint, @state, @doneBytes, @totalBytes, @dir, @error, @createdAt, @updatedAt)`).run(row);
  }

  update(id: string, patch: DownloadPatch, now = Date.now()): void {
    const keys = (Object.keys(patch) as Array<keyof DownloadPatch>).filter((k) => patch[k] !== undefined);
    const sets = [...keys.map((k) => `${COLUMNS[k]} = ?`), 'updated_at = ?'].join(', ');
    this.db.prepare(`UPDATE downloads SET ${sets} WHERE id = ?`).run(...keys.map((k) => patch[k]), now, id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM downloads WHERE id = ?').run(id).changes > 0;
  }
}
