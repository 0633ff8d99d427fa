// sse.ts — reads a text/event-stream body (eventsource-parser does the framing) and hands each
// event's data to onData. Reports whether the body ended in the middle of an event (bytes after
// the last blank line), which a stream cut by a dying server or a dropped connection leaves.
import { createParser } from 'eventsource-parser';

export interface SseEnd {
  /** Bytes were left after the last complete event: the stream was cut mid-event. */
  partial: boolean;
  events: number;
}

/** Feeds the body through the parser; onData may throw to abandon the stream. */
export async function readSse(body: ReadableStream<Uint8Array>, onData: (data: string) => void): Promise<SseEnd> {
  let events = 0;
  let tail = '';
  const parser = createParser({
    onEvent: (ev) => { events++; onData(ev.data); },
  });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      // What follows the last event separator is an event still being received.
      const joined = tail + text;
      const cut = Math.max(joined.lastIndexOf('\n\n'), joined.lastIndexOf('\r\n\r\n'), joined.lastIndexOf('\r\r'));
      tail = cut >= 0 ? joined.slice(cut).replace(/^(\r\n\r\n|\n\n|\r\r)/, '') : joined;
      parser.feed(text);
    }
    const rest = decoder.decode();
    if (rest) { tail += rest; parser.feed(rest); }
  } finally {
    reader.releaseLock();
  }
  return { partial: tail.trim().length > 0, events };
}
