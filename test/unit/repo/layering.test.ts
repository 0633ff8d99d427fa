// The layering rule is a test of its own: it must reject what app/ may never import.
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
