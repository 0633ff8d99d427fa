// tool-policy-store.ts — the approval policies (common/tool-policy.ts) as one JSON value in
// the settings table. Absent: the defaults; unreadable (an older or damaged value): the defaults
// too, so a bad row never turns approvals off or blocks the app.
import type Database from 'better-sqlite3';
import { DEFAULT_POLICIES, type Policy, type PolicyStore } from '../../common/tool-policy.ts';

const KEY = 'toolPolicies';

function valid(p: unknown): p is Policy {
  const x = p as Policy;
  return !!x && (x.scope === 'tool' || x.scope === 'server') && typeof x.server === 'string'
    && (x.tool === null || typeof x.tool === 'string') && typeof x.createdAt === 'number';
}

export class SqlitePolicyStore implements PolicyStore {
  constructor(private readonly db: Database.Database) {}

  load(): Policy[] {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(KEY) as { value: string } | undefined;
    if (!row) return DEFAULT_POLICIES.map((p) => ({ ...p }));
    try {
      const v = JSON.parse(row.value) as unknown;
      if (Array.isArray(v) && v.every(valid)) return v;
    } catch { /* fall through */ }
    return DEFAULT_POLICIES.map((p) => ({ ...p }));
  }

  save(policies: Policy[]): void {
    this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(KEY, JSON.stringify(policies));
  }
}
