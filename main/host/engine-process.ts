// engine-process.ts — runs inside the engine process: loads the native binding and one model,
// generates on request and streams prompt progress and token ids back. A fault in native code kills only this
// process; the supervisor (supervisor.ts) notices and tells the app. Never imports Electron.
import { loadBinding } from '../engine/native.ts';
import type { NativeModel } from '../engine/types.ts';
import type { FromEngine, HostLoadOptions, ToEngine } from './protocol.ts';
import { chooseBackend, cudaLoadFailed } from '../engine/backend-choice.ts';

interface Port { send(msg: FromEngine): void; onMessage(cb: (msg: ToEngine) => void): void }

/** Electron's utilityProcess gives process.parentPort; child_process.fork gives process.send. */
function parentPort(): Port {
  const pp = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(ev: 'message', cb: (e: { data: unknown }) => void): void } }).parentPort;
  if (pp) return { send: (m) => pp.postMessage(m), onMessage: (cb) => pp.on('message', (e) => cb(e.data as ToEngine)) };
  if (!process.send) throw new Error('engine-process must be started by the engine host (no IPC channel)');
  // If the core dies (even kill -9), the IPC channel closes: the engine must not outlive it.
  process.on('disconnect', () => process.exit(0));
  return { send: (m) => { if (process.connected) process.send!(m); }, onMessage: (cb) => process.on('message', (m) => cb(m as ToEngine)) };
}

const port = parentPort();
let model: NativeModel | null = null;
const running = new Map<number, AbortController>();

async function load(dir: string, options: HostLoadOptions): Promise<void> {
  try {
    for (const c of running.values()) c.abort();
    model?.dispose();
    model = null;
    const binding = loadBinding();
    const onProgress = (progress: Parameters<NonNullable<Parameters<typeof binding.loadModel>[2]>>[0]) => port.send({ type: 'load_progress', progress });
    let choice = chooseBackend(options.backend ?? 'auto', () => binding.cudaProbe());
    try {
      model = await binding.loadModel(dir, { ...options, backend: choice.backend }, onProgress);
    } catch (e) {
      if (choice.backend !== 'cuda') throw e;
      // The probe found a device but the load failed there: the app still runs, on the CPU.
      choice = cudaLoadFailed((e as Error).message);
      model = await binding.loadModel(dir, { ...options, backend: 'cpu' }, onProgress);
    }
    port.send({ type: 'loaded', info: model.info(), dir, backendWhy: choice.why });
  } catch (e) {
    port.send({ type: 'load_error', message: (e as Error).message });
  }
}

async function generate(reqId: number, promptIds: number[], options: ToEngine & { type: 'generate' }): Promise<void> {
  if (!model) { port.send({ type: 'gen_error', reqId, message: 'no model is loaded' }); return; }
  const ctrl = new AbortController();
  running.set(reqId, ctrl);
  // Tokens produced in one turn of the event loop travel together; each is sent without waiting.
  let pending: number[] = [];
  let scheduled = false;
  const flush = () => { scheduled = false; if (pending.length) { port.send({ type: 'tokens', reqId, ids: pending }); pending = []; } };
  try {
    const onPrefill = (done: number, total: number) => port.send({ type: 'prefill', reqId, done, total });
    const result = await model.generate(promptIds, { ...options.options, signal: ctrl.signal, onPrefill }, (id) => {
      pending.push(id);
      if (!scheduled) { scheduled = true; setImmediate(flush); }
    });
    flush();
    port.send({ type: 'done', reqId, result });
  } catch (e) {
    flush();
    port.send({ type: 'gen_error', reqId, message: (e as Error).message });
  } finally {
    running.delete(reqId);
  }
}

async function snapshot(msg: ToEngine & { type: 'snapshot' }): Promise<void> {
  const { reqId } = msg;
  try {
    if (!model) throw new Error('no model is loaded');
    const tokens = msg.op === 'save' ? await model.saveSnapshot(msg.promptIds, msg.path) : await model.restoreSnapshot(msg.path, msg.promptIds);
    port.send({ type: 'snapshot_done', reqId, tokens, error: null });
  } catch (e) {
    port.send({ type: 'snapshot_done', reqId, tokens: 0, error: (e as Error).message });
  }
}

port.onMessage((msg) => {
  switch (msg.type) {
    case 'load': void load(msg.dir, msg.options); break;
    case 'generate': void generate(msg.reqId, msg.promptIds, msg); break;
    case 'cancel': running.get(msg.reqId)?.abort(); break;
    case 'snapshot': void snapshot(msg); break;
    case 'heat':
      try { port.send({ type: 'heat_done', reqId: msg.reqId, heat: loadBinding().expertHeat(), error: null }); }
      catch (e) { port.send({ type: 'heat_done', reqId: msg.reqId, heat: null, error: (e as Error).message }); }
      break;
    case 'shutdown': for (const c of running.values()) c.abort(); model?.dispose(); process.exit(0);
  }
});
port.send({ type: 'hello', pid: process.pid });
