// spawn.ts — starting the engine process. Under Node: child_process.fork of engine-entry.js.
// Under Electron, main/electron passes a spawner built on utilityProcess.fork (this module never
// imports Electron, so the server and tests can use the host without it).
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromEngine, ToEngine } from './protocol.ts';

export interface EngineProcess {
  readonly pid: number | null;
  send(msg: ToEngine): void;
  onMessage(cb: (msg: FromEngine) => void): void;
  /** code is null when a signal ended it. */
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export type EngineSpawner = () => EngineProcess;

export const ENGINE_ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'engine-entry.js');

export const forkEngine: EngineSpawner = () => {
  const child = fork(ENGINE_ENTRY, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env },
  });
  let exited = false;
  child.on('exit', () => { exited = true; });
  return {
    get pid() { return child.pid ?? null; },
    // With a callback a failed write (the engine died after `connected` was checked: EPIPE) is
    // handed to it instead of becoming an unhandled 'error' event that kills the core; the
    // 'exit' handler already reports the crash.
    send(msg) { if (!exited && child.connected) child.send(msg, () => undefined); },
    onMessage(cb) { child.on('message', (m) => cb(m as FromEngine)); },
    onExit(cb) { child.on('exit', (code, signal) => cb(code, signal)); },
    kill(signal = 'SIGTERM') { if (!exited) child.kill(signal); },
  };
};
