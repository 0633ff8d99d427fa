// db.ts — opens the SQLite database (WAL) and brings its schema up to date.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DB_FILE } from './paths.ts';
import { migrate } from './migrations.ts';

/** How long a writer waits for a lock held by another connection before failing. */
const BUSY_TIMEOUT_MS = 5000;

export function openDatabase(dataDir: string): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, DB_FILE));
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a committed transaction survives the process being killed (it is in the
  // OS page cache); only a power loss may lose the last few, never corrupt the file.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  migrate(db);
  return db;
}
