// key-store.ts — API keys of the office server and their usage, in SQLite. A key row holds its
// public id, a name, its scope (models, limits, admin) and a keyed hash of the secret — never the
// key itself (hashing lives in main/server/auth/key-hash.ts). Usage is counted per key and UTC day.
import type Database from 'better-sqlite3';

export interface ApiKeyRow {
  id: string;
  name: string;
  hash: string;
  /** Model names this key may use; empty: every model. */
  models: string[];
  maxConcurrent: number | null;
  tokensPerMinute: number | null;
  admin: boolean;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface NewApiKey {
  id: string; name: string; hash: string; models: string[];
  maxConcurrent: number | null; tokensPerMinute: number | null; admin: boolean;
}

export interface UsageDelta { requests?: number; errors?: number; promptTokens?: number; cachedTokens?: number; completionTokens?: number }

export interface UsageRow {
  keyId: string; day: string; requests: number; errors: number;
  promptTokens: number; cachedTokens: number; completionTokens: number;
}

interface KeyDbRow {
  id: string; name: string; hash: string; models: string; max_concurrent: number | null; tokens_per_minute: number | null;
  admin: number; created_at: number; last_used_at: number | null; revoked_at: number | null;
}

function fromDb(r: KeyDbRow): ApiKeyRow {
  let models: string[] = [];
  try { const v: unknown = JSON.parse(r.models); if (Array.isArray(v)) models = v.filter((x): x is string => typeof x === 'string'); } catch { /* none */ }
  return {
    id: r.id, name: r.name, hash: r.hash, models, maxConcurrent: r.max_concurrent, tokensPerMinute: r.tokens_per_minute,
    admin: r.admin === 1, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at,
  };
}

/** The UTC day of a timestamp, as YYYY-MM-DD. */
export function usageDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export class KeyStore {
  constructor(readonly db: Database.Database) {}

  create(k: NewApiKey, now = Date.now()): ApiKeyRow {
    this.db.prepare(`INSERT INTO api_keys (id, name, hash, models, max_concurrent, tokens_per_minute, admin, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(k.id, k.name, k.hash, JSON.stringify(k.models), k.maxConcurrent, k.tokensPerMinute, k.admin ? 1 : 0, now);
    return this.get(k.id)!;
  }

  get(id: string): ApiKeyRow | null {
    const r = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as KeyDbRow | undefined;
    return r ? fromDb(r) : null;
  }

  list(): ApiKeyRow[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as KeyDbRow[]).map(fromDb);
  }

  /** Keys that are not revoked. */
  activeCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL').get() as { n: number }).n;
  }

  update(id: string, patch: { name?: string; models?: string[]; maxConcurrent?: number | null; tokensPerMinute?: number | null }): ApiKeyRow | null {
    const cur = this.get(id);
    if (!cur) return null;
    this.db.prepare('UPDATE api_keys SET name = ?, models = ?, max_concurrent = ?, tokens_per_minute = ? WHERE id = ?').run(
      patch.name ?? cur.name, JSON.stringify(patch.models ?? cur.models),
      patch.maxConcurrent !== undefined ? patch.maxConcurrent : cur.maxConcurrent,
      patch.tokensPerMinute !== undefined ? patch.tokensPerMinute : cur.tokensPerMinute, id);
    return this.get(id);
  }

  revoke(id: string, now = Date.now()): boolean {
    return this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes > 0;
  }

  touch(id: string, now = Date.now()): void {
    this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(now, id);
  }

  addUsage(keyId: string, d: UsageDelta, now = Date.now()): void {
    this.db.prepare(`INSERT INTO api_usage (key_id, day, requests, errors, prompt_tokens, cached_tokens, completion_tokens)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(key_id, day) DO UPDATE SET requests = requests + excluded.requests, errors = errors + excluded.errors,
        prompt_tokens = prompt_tokens + excluded.prompt_tokens, cached_tokens = cached_tokens + excluded.cached_tokens,
        completion_tokens = completion_tokens + excluded.completion_tokens`).run(
      keyId, usageDay(now), d.requests ?? 0, d.errors ?? 0, d.promptTokens ?? 0, d.cachedTokens ?? 0, d.completionTokens ?? 0);
  }

  /** Usage rows since a day (inclusive), newest day first. */
  usage(sinceDay: string): UsageRow[] {
    const rows = this.db.prepare(`SELECT key_id, day, requests, errors, prompt_tokens, cached_tokens, completion_tokens
      FROM api_usage WHERE day >= ? ORDER BY day DESC, key_id`).all(sinceDay) as Array<Record<string, number | string>>;
    return rows.map((r) => ({
      keyId: r.key_id as string, day: r.day as string, requests: r.requests as number, errors: r.errors as number,
      promptTokens: r.prompt_tokens as number, cachedTokens: r.cached_tokens as number, completionTokens: r.completion_tokens as number,
    }));
  }
}
