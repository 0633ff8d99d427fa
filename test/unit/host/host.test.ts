// The engine host against the real engine process (child_process.fork of engine-entry.js):
// crash detection, failing in-flight work, restart. The mid-generation kill loads the demo model
// and fails (never skips) where the engine is not built or cannot load it.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { EngineHost, type HostStatus } from '../../../main/host/supervisor.ts';
import { REPO_ROOT } from '../../../main/paths.ts';
import { requireAddon } from '../../support/engine.ts';

const DEMO = join(REPO_ROOT, 'assets/models/demo-k2');
const hosts: EngineHost[] = [];
afterEach(async () => { for (const h of hosts.splice(0)) await h.shutdown(); });

function waitFor(host: EngineHost, pred: (s: HostStatus) => boolean, timeoutMs = 30_000): Promise<HostStatus> {
  return new Promise((resolve, reject) => {
    if (pred(host.status())) { resolve(host.status()); return; }
    const timer = setTimeout(() => { off(); reject(new Error(`timed out; status ${JSON.stringify(host.status())}`)); }, timeoutMs);
    const off = host.onStatus((s) => { if (pred(s)) { clearTimeout(timer); off(); resolve(s); } });
  });
}

describe('engine host', () => {
  it('starts the engine in its own process, notices kill -9 and restarts on request', async () => {
    const host = new EngineHost({ autoRestart: false });
    hosts.push(host);
    const pid = await host.start();
    expect(pid).not.toBe(process.pid);
    expect(host.status().pid).toBe(pid);
    process.kill(pid, 'SIGKILL');
    const crashed = await waitFor(host, (s) => s.state === 'crashed');
    expect(crashed.error).toMatch(/SIGKILL/);
    expect(crashed.pid).toBeNull();
    await host.restart();
    expect(host.status().state).toBe('idle');
    expect(host.status().restarts).toBe(1);
    const pid2 = await host.start();
    expect(pid2).not.toBe(pid);
  });

  it('refuses to generate without a model and reports a failed load', async () => {
    const host = new EngineHost({ autoRestart: false });
    hosts.push(host);
    await host.start();
    await expect(host.generate([1, 2, 3], {}, () => {})).rejects.toThrow(/not ready/);
    await expect(host.load('/nonexistent/model/dir')).rejects.toThrow();
    expect(['error', 'crashed']).toContain(host.status().state);
  });

  it('kill -9 mid-generation fails the generation cleanly and recovers automatically', async () => {
    requireAddon('the mid-generation kill');
    const host = new EngineHost({ autoRestart: true });
    hosts.push(host);
    await host.load(DEMO, { threads: 1 });
    // The engine process chose the backend ('auto') and says which and why.
    const st = host.status();
    expect(st.backendWhy).toMatch(st.info?.backend === 'cuda' ? /^CUDA: / : /^CPU: \S/);
    // The heat map through the engine process: nothing recorded before a forward (or ever, on the CPU).
    expect(await host.expertHeat()).toEqual({ nLayers: 0, nExperts: 0, counts: [], onGpu: [] });
    const pid = host.status().pid!;
    let tokens = 0;
    const gen = host.generate([2144, 100, 200, 300], { maxTokens: 100_000, temperature: 1, seed: 1, stopIds: [] }, (ids) => {
      tokens += ids.length;
      if (tokens >= 3 && host.status().pid === pid) process.kill(pid, 'SIGKILL');
    });
    await expect(gen).rejects.toThrow(/killed \(SIGKILL\)/);
    expect(tokens).toBeGreaterThanOrEqual(3);
    const ready = await waitFor(host, (s) => s.state === 'ready');
    expect(ready.pid).not.toBe(pid);
    expect(ready.restarts).toBe(1);
    const out: number[] = [];
    const r = await host.generate([2144, 100], { maxTokens: 4, temperature: 0, stopIds: [] }, (ids) => out.push(...ids));
    expect(r.outputIds).toEqual(out);
    expect(out).toHaveLength(4);
  });
});
