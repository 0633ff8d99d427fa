// A fresh machine without the system packages, simulated: PATH holds only fake dpkg / id /
// apt-get / sudo / npm (and bash), so scripts/install-system-deps.sh and the first-start engine
// build (scripts/ensure-engine.mjs, what npm start runs) see a Debian system where some packages
// are missing, and we check what they print, what they run and how they exit.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DEPS = join(ROOT, 'scripts', 'install-system-deps.sh');
const BASH = existsSync('/bin/bash') ? '/bin/bash' : '/usr/bin/bash';
const BUILD_PKGS = ['cmake', 'g++', 'make', 'nlohmann-json3-dev'];
const tmp = mkdtempSync(join(tmpdir(), 'kk-sysdeps-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A bin folder of fakes: dpkg and apt-get unless noDpkg, sudo only when asked for. */
function fakeBin(opts: { sudo?: 'passwordless' | 'password'; noDpkg?: boolean } = {}) {
  const dir = join(tmp, `bin${n++}`);
  const log = join(dir, 'calls.log');
  mkdirSync(dir);
  const put = (name: string, body: string) => { writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`); chmodSync(join(dir, name), 0o755); };
  symlinkSync(BASH, join(dir, 'bash'));
  if (!opts.noDpkg) {
    put('dpkg', '[ "$1" = -s ] || exit 2\ncase " $FAKE_INSTALLED " in *" $2 "*) exit 0;; esac\nexit 1');
    put('apt-get', `echo "apt-get $*" >> ${log}\nexit \${FAKE_APT_RC:-0}`);
  }
  put('id', 'echo "${FAKE_UID:-1000}"');
  put('npm', `echo "npm $*" >> ${log}`);
  if (opts.sudo === 'passwordless') put('sudo', '[ "$1" = -n ] && shift\n"$@"');
  if (opts.sudo === 'password') put('sudo', '[ "$1" = -n ] && exit 1\n"$@"');
  return { PATH: dir, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

function deps(bin: { PATH: string }, env: Record<string, string>, args: string[] = []) {
  const r = spawnSync(BASH, [DEPS, ...args], { env: { PATH: bin.PATH, ...env }, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('scripts/install-system-deps.sh', () => {
  it('not root and no sudo: exits 1 naming the exact apt-get command, installs nothing', () => {
    const bin = fakeBin();
    const r = deps(bin, { FAKE_INSTALLED: 'cmake g++ make chromium' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('system packages missing: nlohmann-json3-dev');
    expect(r.err).toContain('not root and no sudo');
    expect(r.err).toContain('  apt-get update && apt-get install -y --no-install-recommends nlohmann-json3-dev\n');
    expect(bin.calls()).toEqual([]);
  });

  it('--build checks only what the engine build needs', () => {
    const bin = fakeBin();
    const build = deps(bin, { FAKE_INSTALLED: BUILD_PKGS.join(' ') }, ['--build']);
    expect(build.code).toBe(0);
    expect(build.out).toContain('system packages: all present');
    const all = deps(bin, { FAKE_INSTALLED: BUILD_PKGS.join(' ') });
    expect(all.code).toBe(1);
    expect(all.out).toContain('system packages missing: chromium');
  });

  it('as root: apt-get update, then install of just the missing packages', () => {
    const bin = fakeBin();
    const r = deps(bin, { FAKE_UID: '0', FAKE_INSTALLED: 'g++ chromium' }, ['--build']);
    expect(r.code).toBe(0);
    expect(bin.calls()).toEqual(['apt-get update -qq', 'apt-get install -y -qq --no-install-recommends cmake make nlohmann-json3-dev']);
  });

  it('as root when apt-get fails (no network): exits 1 with the command to run', () => {
    const bin = fakeBin();
    const r = deps(bin, { FAKE_UID: '0', FAKE_APT_RC: '100', FAKE_INSTALLED: BUILD_PKGS.filter((p) => p !== 'cmake').join(' ') }, ['--build']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('installing the system packages failed');
    expect(r.err).toContain('  apt-get update && apt-get install -y --no-install-recommends cmake\n');
  });

  it('not root with passwordless sudo: installs through sudo', () => {
    const bin = fakeBin({ sudo: 'passwordless' });
    const r = deps(bin, { FAKE_INSTALLED: 'cmake g++ make' }, ['--build']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('installing with sudo: apt-get update && apt-get install -y --no-install-recommends nlohmann-json3-dev');
    expect(bin.calls()).toEqual(['apt-get update -qq', 'apt-get install -y -qq --no-install-recommends nlohmann-json3-dev']);
  });

  it('sudo that wants a password and no terminal: exits 1 with the sudo command', () => {
    const bin = fakeBin({ sudo: 'password' });
    const r = deps(bin, { FAKE_INSTALLED: 'cmake g++ make' }, ['--build']);
    expect(r.code).toBe(1);
    expect(r.err).toContain("  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends nlohmann-json3-dev'\n");
    expect(bin.calls()).toEqual([]);
  });

  it('no dpkg (not Debian/Ubuntu): says so and names what is missing', () => {
    const bin = fakeBin({ noDpkg: true });
    const r = deps(bin, {}, ['--build']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('system packages missing: cmake a C++17 compiler make; not a Debian/Ubuntu system');
  });
});

describe('npm start on a machine without the engine built (scripts/ensure-engine.mjs)', () => {
  /** ensureEngine on an empty root (no build/addon), in a child whose PATH is the fakes. */
  function firstStart(bin: { PATH: string }, env: Record<string, string>) {
    const root = mkdtempSync(join(tmp, 'root-'));
    const code = `import { ensureEngine } from ${JSON.stringify(join(ROOT, 'scripts', 'ensure-engine.mjs'))};
      const r = ensureEngine(${JSON.stringify(root)}, { depsScript: ${JSON.stringify(DEPS)} });
      console.log('RESULT ' + JSON.stringify(r)); process.exit(r.ok ? 0 : 3);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { PATH: bin.PATH, ...env }, encoding: 'utf8' });
    return { code: r.status, out: r.stdout + r.stderr };
  }

  it('the JSON package missing and no way to install it: the apt-get command, no build attempted', () => {
    const bin = fakeBin();
    const r = firstStart(bin, { FAKE_INSTALLED: 'cmake g++ make' });
    expect(r.code).toBe(3);
    expect(r.out).toContain('apt-get update && apt-get install -y --no-install-recommends nlohmann-json3-dev');
    expect(r.out).toContain('The engine was not built: the system packages the engine needs are missing');
    expect(bin.calls()).toEqual([]);
  });

  it('the packages installable (root): installs them, then builds the engine', () => {
    const bin = fakeBin();
    const r = firstStart(bin, { FAKE_UID: '0', FAKE_INSTALLED: 'g++ make' });
    expect(r.code).toBe(0);
    expect(bin.calls()).toEqual([
      'apt-get update -qq',
      'apt-get install -y -qq --no-install-recommends cmake nlohmann-json3-dev',
      'npm run build:native',
    ]);
  });
});
