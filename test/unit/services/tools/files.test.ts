// read_file / list_dir stay inside the granted folders: `..`, a symlink pointing out (file or
// folder), an absolute path elsewhere and a folder that is only a prefix of the granted one are
// refused; what is inside is read, bounded, and binary files are refused.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileAccessError, MAX_READ_BYTES, confine, listDirConfined, readFileConfined } from '../../../../main/services/tools/files.ts';

let base: string;
let granted: string;
let outside: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'kk-files-'));
  granted = join(base, 'work');
  outside = join(base, 'secret');
  mkdirSync(join(granted, 'sub'), { recursive: true });
  mkdirSync(outside);
  mkdirSync(join(base, 'work-evil'));
  writeFileSync(join(granted, 'notes.txt'), 'hello');
  writeFileSync(join(granted, 'sub', 'deep.txt'), 'deep');
  writeFileSync(join(granted, 'big.txt'), 'x'.repeat(MAX_READ_BYTES + 10));
  writeFileSync(join(granted, 'bin.dat'), Buffer.from([1, 2, 0, 3]));
  writeFileSync(join(outside, 'key.txt'), 'TOP SECRET');
  writeFileSync(join(base, 'work-evil', 'x.txt'), 'prefix');
  symlinkSync(join(outside, 'key.txt'), join(granted, 'link-out.txt'));
  symlinkSync(outside, join(granted, 'dir-out'));
  symlinkSync(join(granted, 'notes.txt'), join(granted, 'link-in.txt'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('file tools confined to granted folders', () => {
  it('reads and lists inside, relative or absolute; a symlink that stays inside is followed', () => {
    expect(readFileConfined([granted], 'notes.txt').content).toBe('hello');
    expect(readFileConfined([granted], 'sub/deep.txt').content).toBe('deep');
    expect(readFileConfined([granted], join(granted, 'sub', 'deep.txt')).content).toBe('deep');
    expect(readFileConfined([granted], 'sub/../notes.txt').content).toBe('hello');
    expect(readFileConfined([granted], 'link-in.txt').content).toBe('hello');
    const names = listDirConfined([granted], '').entries.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['notes.txt', 'sub', 'link-out.txt']));
    expect(listDirConfined([granted], 'sub').entries).toEqual([{ name: 'deep.txt', type: 'file', size: 4 }]);
  });

  it('refuses .., symlinks pointing out, absolute paths elsewhere and prefix look-alikes', () => {
    const escapes = ['../secret/key.txt', 'sub/../../secret/key.txt', 'link-out.txt', 'dir-out/key.txt', join(outside, 'key.txt'), '/etc/passwd', join(base, 'work-evil', 'x.txt'), '..'];
    for (const p of escapes) {
      expect(() => readFileConfined([granted], p), p).toThrow(FileAccessError);
      expect(() => readFileConfined([granted], p), p).toThrow(/outside the granted folders|does not exist/);
    }
    expect(() => listDirConfined([granted], 'dir-out')).toThrow(/outside the granted folders/);
    expect(() => listDirConfined([granted], '..')).toThrow(/outside the granted folders/);
    expect(() => confine([granted], 'a\0b')).toThrow(/NUL/);
  });

  it('with nothing granted, says how to grant', () => {
    expect(() => readFileConfined([], 'notes.txt')).toThrow(/no folder is granted/);
  });

  it('bounds what it reads and refuses binary files', () => {
    const r = readFileConfined([granted], 'big.txt');
    expect(r.content.length).toBe(MAX_READ_BYTES);
    expect(r.truncated).toBe(true);
    expect(r.size).toBe(MAX_READ_BYTES + 10);
    expect(() => readFileConfined([granted], 'bin.dat')).toThrow(/binary/);
    expect(() => readFileConfined([granted], 'sub')).toThrow(/folder/);
  });
});
