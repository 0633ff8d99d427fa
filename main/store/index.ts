// index.ts — the store: one SQLite database holding conversations, messages and settings.
import type Database from 'better-sqlite3';
import { openDatabase } from './db.ts';
import { ChatStore } from './chat-store.ts';
import { SettingsStore } from './settings-store.ts';
import { KeyStore } from './key-store.ts';
import { DownloadStore } from './download-store.ts';

export { ChatStore, NotFoundError, type NewMessage, type MessagePatch } from './chat-store.ts';
export { SettingsStore, DEFAULT_SETTINGS } from './settings-store.ts';
export { StreamWriter } from './stream-writer.ts';
export { KeyStore, usageDay, type ApiKeyRow, type UsageRow, type UsageDelta } from './key-store.ts';
export { defaultDataDir } from './paths.ts';
export { DownloadStore, type DownloadRow } from './download-store.ts';

export interface Store { db: Database.Database; chats: ChatStore; settings: SettingsStore; keys: KeyStore; downloads: DownloadStore; recovered: number; close(): void }

export function openStore(dataDir: string): Store {
  const db = openDatabase(dataDir);
  const chats = new ChatStore(db);
  const recovered = chats.recoverInterrupted();
  return { db, chats, settings: new SettingsStore(db), keys: new KeyStore(db), downloads: new DownloadStore(db), recovered, close: () => db.close() };
}
