// test/unit mirrors the source tree (vitest.config.ts): a folder for each of main/'s, one for
// common/ and one for app/, and repo/ for the repository's own rules — nothing else, so a test is
// found where the code it tests lives.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const folders = (dir: string) => readdirSync(join(ROOT, dir), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

describe('test/unit mirrors main/', () => {
  it("has exactly main/'s folders plus app, common and repo", () => {
    expect(folders('test/unit')).toEqual([...folders('main'), 'app', 'common', 'repo'].sort());
  });
  it('holds no test files at its top level', () => {
    const loose = readdirSync(join(ROOT, 'test/unit')).filter((n) => /\.test\.tsx?$/.test(n));
    expect(loose).toEqual([]);
  });
});
