import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, StreamWriter, type Store } from '../../../main/store/index.ts';
import { migrate, MIGRATIONS, schemaVersion } from '../../../main/store/migrations.ts';
import { defaultDataDir } from '../../../main/store/paths.ts';

const dirs: string[] = [];
const stores: Store[] = [];
function tmp(): string { const d = mkdtempSync(join(tmpdir(), 'kk-store-')); dirs.push(d); return d; }
function open(dir = tmp()): Store { const s = openStore(dir); stores.push(s); return s; }
afterEach(() => {
  for (const s of stores.splice(0)) { try { s.close(); } catch { /* already closed */ } }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('paths', () => {
  it('honours KARAKORAM_DATA_DIR and per-OS defaults', () => {
    expect(defaultDataDir({ KARAKORAM_DATA_DIR: '/x/y' }, 'linux')).toBe('/x/y');
    expect(defaultDataDir({ XDG_DATA_HOME: '/xdg' }, 'linux')).toBe('/xdg/karakoram');
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/Karakoram$/);
  });
});

describe('migrations', () => {
  it('brings a fresh database to the latest version and is idempotent', () => {
    const db = new Database(':memory:');
    expect(migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(schemaVersion(db)).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
    expect(migrate(db)).toEqual([]);
  });

  it('upgrades a version-1 database keeping its data', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 1));
    db.prepare(`INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c', 'old', 1, 1)`).run();
    expect(migrate(db)).toEqual(MIGRATIONS.slice(1).map((m) => m.version));
    expect((db.prepare('SELECT title FROM conversations').get() as { title: string }).title).toBe('old');
  });

  it('rolls back a failing migration and refuses a newer schema', () => {
    const db = new Database(':memory:');
    const bad = [...MIGRATIONS, { version: 99, name: 'bad', up: (d: Database.Database) => { d.exec('CREATE TABLE t (x)'); d.exec('NOT SQL'); } }];
    expect(() => migrate(db, bad)).toThrow();
    expect(schemaVersion(db)).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 't'`).get()).toBeUndefined();
    db.pragma('user_version = 500');
    expect(() => migrate(db)).toThrow(/newer/);
  });

  it('opens in WAL mode', () => {
    const s = open();
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
  });
});

describe('chat store', () => {
  it('stores conversations, branches and search', () => {
    const { chats } = open();
    const c = chats.createConversation({ title: 'Trip', tools: ['get_weather'] });
    const u1 = chats.addMessage({ conversationId: c, parentId: null, role: 'user', content: 'Weather in Paris?' });
    const a1 = chats.addMessage({ conversationId: c, parentId: u1.id, role: 'assistant', content: 'Rainy.', reasoning: 'look it up',
      sampling: { temperature: 0.3 }, model: 'demo' });
    let conv = chats.getConversation(c);
    expect(conv.messages.map((m) => m.id)).toEqual([u1.id, a1.id]);
    expect(conv.tools).toEqual(['get_weather']);
    expect(conv.messages[1].reasoning).toBe('look it up');
    expect(conv.messages[1].sampling).toEqual({ temperature: 0.3 });
    // Branch: a second answer to the same user message.
    const a2 = chats.addMessage({ conversationId: c, parentId: u1.id, role: 'assistant', content: 'Sunny.' });
    conv = chats.getConversation(c);
    expect(conv.headId).toBe(a2.id);
    expect(conv.messages[1].siblingIds).toEqual([a1.id, a2.id]);
    chats.setHead(c, chats.newestLeaf(a1.id));
    expect(chats.getConversation(c).messages[1].content).toBe('Rainy.');
    // Search by title and by content, with LIKE wildcards taken literally.
    expect(chats.search('trip')[0].messageId).toBeNull();
    const hit = chats.search('sunny');
    expect(hit).toHaveLength(1);
    expect(hit[0].messageId).toBe(a2.id);
    expect(chats.search('%')).toHaveLength(0);
    chats.renameConversation(c, 'Paris');
    expect(chats.listConversations()[0].title).toBe('Paris');
    expect(chats.listConversations()[0].messageCount).toBe(3);
    expect(chats.deleteConversation(c)).toBe(true);
    expect(chats.listConversations()).toHaveLength(0);
    expect(chats.hasMessage(u1.id)).toBe(false);
  });

  it('streams a message through chunks and compacts it', () => {
    const { chats, db } = open();
    const c = chats.createConversation({});
    const a = chats.addMessage({ conversationId: c, parentId: null, role: 'assistant', status: 'streaming' });
    const w = new StreamWriter(db, a.id);
    for (let i = 0; i < 150; i++) w.batch(() => (i < 50 ? w.appendReasoning(`${i},`) : w.appendContent(`${i},`)));
    w.setToolCall(0, { id: 'functions.calc:0', name: 'calc', arguments: '', status: 'streaming', result: null, error: null, durationMs: null });
    w.batch(() => w.appendToolArguments(0, '{"x":'));
    w.batch(() => w.appendToolArguments(0, ' 1}'));
    // Mid-stream readers see everything written so far (row + pending chunks).
    const mid = chats.getMessage(a.id);
    expect(mid.content.split(',').length - 1).toBe(100);
    expect(mid.toolCalls[0].arguments).toBe('{"x": 1}');
    expect((db.prepare('SELECT COUNT(*) n FROM message_chunks').get() as { n: number }).n).toBeLessThan(64);
    w.finish({ status: 'complete', finishReason: 'stop' });
    const done = chats.getMessage(a.id);
    expect(done.status).toBe('complete');
    expect(done.reasoning).toBe(Array.from({ length: 50 }, (_, i) => `${i},`).join(''));
    expect((db.prepare('SELECT COUNT(*) n FROM message_chunks').get() as { n: number }).n).toBe(0);
  });

  it('settings: defaults, patches and invalid stored values', () => {
    const { settings, db } = open();
    expect(settings.get().threads).toBe(0);
    const s = settings.update({ threads: 4, sampling: { temperature: 0.7 } });
    expect(s.threads).toBe(4);
    expect(s.sampling.temperature).toBe(0.7);
    db.prepare(`UPDATE settings SET value = '"lots"' WHERE key = 'threads'`).run();
    expect(settings.get().threads).toBe(0);
    expect(settings.get().sampling.temperature).toBe(0.7);
  });
});

describe('crash mid-write', () => {
  it('a child killed while streaming leaves an intact database with the partial message', async () => {
    const dir = tmp();
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'stream-writer-child.ts'), dir],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const committed = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const all = [...out.matchAll(/committed (\d+)/g)];
        const last = all.length ? Number(all[all.length - 1][1]) : 0;
        if (last >= 300) { child.kill('SIGKILL'); resolve(last); }
      });
      child.on('exit', (code) => { if (code !== null) reject(new Error(`child exited ${code}: ${stderr}`)); });
    });
    await new Promise((r) => child.on('close', r));
    const messageId = /message (\S+)/.exec(out)![1];
    const s = open(dir);
    expect((s.db.pragma('integrity_check', { simple: true }))).toBe('ok');
    expect(s.recovered).toBe(1);
    const m = s.chats.getMessage(messageId);
    expect(m.status).toBe('interrupted');
    const tokens = (m.reasoning + m.content).trim().split(' ');
    // Every token the child reported as committed is there, in order, none torn (the child kept
    // writing until the signal landed, so there may be more than it had reported).
    expect(tokens.length).toBeGreaterThanOrEqual(committed);
    tokens.forEach((t, i) => expect(t).toBe(i < 10 ? `r${i}` : `t${i}`));
  });
});

describe('key store (migration 3)', () => {
  it('keeps keys (hash only), revokes them and sums usage per key and day', async () => {
    const { KeyStore } = await import('../../../main/store/key-store.ts');
    const db = new Database(':memory:');
    migrate(db);
    const keys = new KeyStore(db);
    keys.create({ id: 'abc', name: 'desk', hash: 'f'.repeat(64), models: ['demo-k2'], maxConcurrent: 2, tokensPerMinute: null, admin: false }, 1000);
    expect(keys.get('abc')).toMatchObject({ name: 'desk', models: ['demo-k2'], maxConcurrent: 2, revokedAt: null });
    expect(keys.activeCount()).toBe(1);
    expect(keys.revoke('abc', 2000)).toBe(true);
    expect(keys.revoke('abc', 3000)).toBe(false);
    expect(keys.activeCount()).toBe(0);
    const day = Date.UTC(2026, 0, 2, 10);
    keys.addUsage('abc', { requests: 1, promptTokens: 10, completionTokens: 5 }, day);
    keys.addUsage('abc', { requests: 1, errors: 1 }, day + 1000);
    expect(keys.usage('2026-01-01')).toEqual([{ keyId: 'abc', day: '2026-01-02', requests: 2, errors: 1, promptTokens: 10, cachedTokens: 0, completionTokens: 5 }]);
  });
});
