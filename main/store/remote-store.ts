// remote-store.ts — the remote endpoints the user added (base URL, key, model, capabilities) and
// which provider new generations use, as JSON values in the settings table. The key has to be
// sent to the remote, so it is stored as given (it is the remote's secret, not one of this
// server's own keys); it never leaves the core — views carry only whether one is set.
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { RemoteEndpointSchema, type RemoteEndpoint } from '../../common/providers.ts';

const REMOTES_KEY = 'remoteEndpoints';
const ACTIVE_KEY = 'activeProvider';

export class RemoteStore {
  constructor(private readonly db: Database.Database) {}

  private read(key: string): unknown {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    try { return row ? JSON.parse(row.value) : undefined; } catch { return undefined; }
  }

  private write(key: string, value: unknown): void {
    this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  }

  /** Every stored endpoint that still parses (one written by another build that does not is skipped). */
  list(): RemoteEndpoint[] {
    const raw = this.read(REMOTES_KEY);
    if (!Array.isArray(raw)) return [];
    return raw.flatMap((r) => { const p = RemoteEndpointSchema.safeParse(r); return p.success ? [p.data] : []; });
  }

  get(id: string): RemoteEndpoint | null { return this.list().find((r) => r.id === id) ?? null; }

  put(endpoint: RemoteEndpoint): void {
    const all = this.list();
    const i = all.findIndex((r) => r.id === endpoint.id);
    if (i >= 0) all[i] = endpoint; else all.push(endpoint);
    this.write(REMOTES_KEY, all);
  }

  delete(id: string): boolean {
    const all = this.list();
    const rest = all.filter((r) => r.id !== id);
    if (rest.length === all.length) return false;
    this.db.transaction(() => {
      this.write(REMOTES_KEY, rest);
      if (this.active() === id) this.setActive(null);
    })();
    return true;
  }

  /** The remote new generations use; null: the local engine. */
  active(): string | null {
    const v = z.string().nullable().safeParse(this.read(ACTIVE_KEY) ?? null);
    const id = v.success ? v.data : null;
    return id && this.get(id) ? id : null;
  }

  setActive(id: string | null): void { this.write(ACTIVE_KEY, id); }
}
