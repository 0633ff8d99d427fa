// migrations.ts — the schema as a versioned list. PRAGMA user_version records how many have run;
// each runs in its own transaction, so a failure leaves the database at the previous version.
// Append only: never edit a migration that has shipped.
import type Database from 'better-sqlite3';

export interface Migration { version: number; name: string; up(db: Database.Database): void }

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'conversations, messages, settings',
    up(db) {
      db.exec(`
        CREATE TABLE conversations (
          id TEXT PRIMARY KEY,
          title TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          head_id TEXT,
          tools TEXT NOT NULL DEFAULT '[]',
          system_prompt TEXT
        );
        CREATE TABLE messages (
          id TEXT PRIMARY KEY,
          conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
          parent_id TEXT REFERENCES messages(id) ON DELETE CASCADE,
          role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
          content TEXT NOT NULL DEFAULT '',
          reasoning TEXT NOT NULL DEFAULT '',
          reasoning_ms REAL,
          reasoning_tokens INTEGER,
          tool_calls TEXT NOT NULL DEFAULT '[]',
          tool_call_id TEXT,
          tool_name TEXT,
          status TEXT NOT NULL,
          finish_reason TEXT,
          error TEXT,
          timings TEXT,
          model TEXT,
          sampling TEXT,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX messages_by_conversation ON messages(conversation_id);
        CREATE INDEX messages_by_parent ON messages(parent_id);
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      `);
    },
  },
  {
    version: 2,
    name: 'stream chunks: one row per generated token while a message streams',
    // Appending a row per token is O(1); rewriting the message row per token would be O(length).
    // Chunks are folded into the message row every few dozen tokens and at the end.
    up(db) {
      db.exec(`
        CREATE TABLE message_chunks (
          message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
          seq INTEGER NOT NULL,
          kind TEXT NOT NULL,
          text TEXT NOT NULL,
          PRIMARY KEY (message_id, seq)
        ) WITHOUT ROWID;
        CREATE INDEX conversations_by_updated ON conversations(updated_at);
      `);
    },
  },
  {
    version: 3,
    name: 'office server: API keys (hashed) and usage per key and day',
    // Only a keyed hash of each key is stored (see main/server/auth/key-hash.ts); `prefix` is the
    // public part shown in the app and used to find the row. Usage is one row per key and UTC day.
    up(db) {
      db.exec(`
        CREATE TABLE api_keys (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          hash TEXT NOT NULL,
          models TEXT NOT NULL DEFAULT '[]',
          max_concurrent INTEGER,
          tokens_per_minute INTEGER,
          admin INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL,
          last_used_at INTEGER,
          revoked_at INTEGER
        );
        CREATE TABLE api_usage (
          key_id TEXT NOT NULL,
          day TEXT NOT NULL,
          requests INTEGER NOT NULL DEFAULT 0,
          errors INTEGER NOT NULL DEFAULT 0,
          prompt_tokens INTEGER NOT NULL DEFAULT 0,
          cached_tokens INTEGER NOT NULL DEFAULT 0,
          completion_tokens INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (key_id, day)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 4,
    name: 'model library: downloads (state survives a restart; the bytes and range bookkeeping live beside the files)',
    up(db) {
      db.exec(`
        CREATE TABLE downloads (
          id TEXT PRIMARY KEY,
          repo TEXT NOT NULL,
          revision TEXT NOT NULL,
          endpoint TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'paused', 'done', 'error', 'cancelled')),
          done_bytes INTEGER NOT NULL DEFAULT 0,
          total_bytes INTEGER NOT NULL DEFAULT 0,
          dir TEXT,
          error TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 5,
    name: "remote engines: each conversation's engine choice",
    // NULL: the default engine (the Remote engines section's choice); 'local' or a remote's id.
    up(db) {
      db.exec('ALTER TABLE conversations ADD COLUMN provider TEXT');
    },
  },
];

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Runs the migrations above the database's version, in order. Returns the versions applied. */
export function migrate(db: Database.Database, migrations: Migration[] = MIGRATIONS): number[] {
  const applied: number[] = [];
  const current = schemaVersion(db);
  const latest = migrations.length ? migrations[migrations.length - 1].version : 0;
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this build knows (${latest}); update Karakoram`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}
