// fake-api.ts — an in-memory KarakoramApi for the renderer's unit tests: requests are recorded
// and answered by per-test handlers; events are emitted by the test.
import type { Conversation, EventName, EventPayload, KarakoramApi, Message, RequestName } from '../../../common/contract.ts';
import type { Transport } from '../../../app/transport/index.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test types its own params
type Handler = (params: any) => unknown;

export interface FakeApi {
  transport: Transport;
  calls: Array<{ method: RequestName; params: unknown }>;
  handle(method: RequestName, fn: Handler): void;
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  setConnected(c: boolean): void;
}

export function fakeApi(): FakeApi {
  const handlers = new Map<string, Handler>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const conn = new Set<(c: boolean) => void>();
  const calls: FakeApi['calls'] = [];
  const api = new Proxy({} as Record<string, unknown>, {
    get(_t, prop: string) {
      if (prop === 'on') {
        return (event: string, cb: (p: unknown) => void) => {
          let s = listeners.get(event);
          if (!s) { s = new Set(); listeners.set(event, s); }
          s.add(cb);
          return () => s!.delete(cb);
        };
      }
      return async (params: unknown) => {
        calls.push({ method: prop as RequestName, params });
        const h = handlers.get(prop);
        if (!h) throw new Error(`no handler for ${prop}`);
        return h(params);
      };
    },
  }) as unknown as KarakoramApi;
  return {
    transport: { api, kind: 'websocket', onConnection(cb) { conn.add(cb); return () => conn.delete(cb); }, close() {} },
    calls,
    handle(m, fn) { handlers.set(m, fn); },
    emit(event, payload) { for (const cb of listeners.get(event) ?? []) cb(payload); },
    setConnected(c) { for (const cb of conn) cb(c); },
  };
}

export function msg(p: Partial<Message> & Pick<Message, 'id' | 'role'>): Message {
  return {
    conversationId: 'c1', parentId: null, content: '', reasoning: '', reasoningMs: null, reasoningTokens: null, toolCalls: [],
    toolCallId: null, toolName: null, status: 'complete', finishReason: null, error: null, timings: null, model: null, sampling: null,
    createdAt: 1, siblingIds: [p.id], ...p,
  };
}

export function conv(id: string, messages: Message[], extra: Partial<Conversation> = {}): Conversation {
  return {
    id, title: 'Test', createdAt: 1, updatedAt: 2, messageCount: messages.length, preview: '', generating: false,
    headId: messages.length ? messages[messages.length - 1].id : null, tools: [], systemPrompt: null, provider: null, messages, ...extra,
  };
}

export const flush = () => new Promise((r) => setTimeout(r, 0));
