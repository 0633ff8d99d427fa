// The layering rules are a test of their own: each must reject a deliberately wrong import (a
// virtual file linted with ESLint's Node API) and let the right ones through.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function lint(path: string, code: string) {
  const [r] = await eslint.lintText(code, { filePath: path });
  return r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import layering', () => {
  it('rejects Node built-ins, Electron, native/ and main/ in app/', async () => {
    expect(await lint('app/x.ts', "import fs from 'node:fs'; export const a = fs;")).toHaveLength(1);
    expect(await lint('app/x.ts', "import { readFileSync } from 'fs'; export const a = readFileSync;")).toHaveLength(1);
    expect(await lint('app/x.ts', "import { app } from 'electron'; export const a = app;")).toHaveLength(1);
    expect(await lint('app/x.ts', "import { loadBinding } from '../main/engine/native.ts'; export const a = loadBinding;")).toHaveLength(1);
  });
  it('allows common/ and browser packages in app/', async () => {
    expect(await lint('app/x.ts', "import type { ChatMessage } from '../common/chat-types.ts'; import { create } from 'zustand'; export type M = ChatMessage; export const c = create;")).toEqual([]);
  });
  it('allows Node in main/', async () => {
    expect(await lint('main/x.ts', "import fs from 'node:fs'; export const a = fs;")).toEqual([]);
  });
});

describe('direction inside main/', () => {
  const services = "import { Core } from '../services/core.ts'; export const c = Core;";
  it('text/, store/ and host/ never import services/', async () => {
    for (const file of ['main/text/x.ts', 'main/store/x.ts', 'main/host/x.ts', 'main/host/engine-process.ts']) {
      expect(await lint(file, services), file).toEqual([expect.stringMatching(/sit below main\/services/)]);
    }
    expect(await lint('main/text/sub/x.ts', "import type { ChatService } from '../../services/chat-service.ts'; export type C = ChatService;")).toHaveLength(1);
  });
  it('the layers above services/ may import it', async () => {
    for (const file of ['main/server/x.ts', 'main/cli/commands/x.ts', 'main/electron/x.ts']) {
      expect(await lint(file, services.replace('../services', file.startsWith('main/cli/') ? '../../services' : '../services')), file).toEqual([]);
    }
  });

  const addon = (from: string) => `import { loadBinding } from '${from}'; export const b = loadBinding;`;
  it('only the engine process, engine/ and the CLI load the addon', async () => {
    for (const [file, from] of [
      ['main/services/x.ts', '../engine/native.ts'], ['main/services/x.ts', '../engine/native'], ['main/server/x.ts', '../engine/native.ts'],
      ['main/electron/x.ts', '../engine/native.ts'], ['main/models/x.ts', '../engine/native.ts'], ['main/host/supervisor.ts', '../engine/native.ts'],
      ['main/text/x.ts', '../engine/native.ts'], ['main/x.ts', './engine/native.ts'], ['main/services/x.ts', '../../build/addon/Release/karakoram_node.node'],
    ]) {
      expect(await lint(file, addon(from)), `${file} <- ${from}`).toEqual([expect.stringMatching(/Only the engine process/)]);
    }
    for (const [file, from] of [
      ['main/host/engine-process.ts', '../engine/native.ts'], ['main/cli/commands/x.ts', '../../engine/native.ts'], ['main/engine/x.ts', './native.ts'],
    ]) {
      expect(await lint(file, addon(from)), `${file} <- ${from}`).toEqual([]);
    }
  });
  it('only store/ opens the database', async () => {
    const sql = "import Database from 'better-sqlite3'; export const d = Database;";
    for (const file of ['main/services/x.ts', 'main/server/x.ts', 'main/cli/commands/x.ts', 'main/engine/x.ts', 'main/host/engine-process.ts', 'main/text/x.ts', 'main/x.ts']) {
      expect(await lint(file, sql), file).toEqual([expect.stringMatching(/SQL lives only in main\/store/)]);
    }
    expect(await lint('main/store/x.ts', sql)).toEqual([]);
  });
  it('the checkout paths and the engine types are for everyone', async () => {
    expect(await lint('main/services/x.ts', "import { REPO_ROOT } from '../paths.ts'; import type { NativeModel } from '../engine/types.ts'; export type M = NativeModel; export const r = REPO_ROOT;")).toEqual([]);
  });
});
