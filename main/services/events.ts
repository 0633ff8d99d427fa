// events.ts — the core's event bus: services publish contract events here; the Electron IPC
// bridge and the WebSocket server forward them to every renderer.
import type { EventName, EventPayload } from '../../common/contract.ts';

export type AnyEventListener = (event: EventName, payload: unknown) => void;

export class EventBus {
  private readonly listeners = new Set<AnyEventListener>();

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const l of this.listeners) {
      try { l(event, payload); } catch { /* one broken listener must not stop the others */ }
    }
  }

  subscribe(l: AnyEventListener): () => void {
    this.listeners.add(l);
    return () => { this.listeners.delete(l); };
  }
}
