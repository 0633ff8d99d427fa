// sse.ts — a server-sent-events writer over an HTTP response. Headers go out with the first
// event, so an error found before it can still be a plain JSON error with its status.
import type { ServerResponse } from 'node:http';

export class SseWriter {
  private started = false;
  constructor(private readonly res: ServerResponse, private readonly headers: Record<string, string> = {}) {}

  get isStarted(): boolean { return this.started; }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, {
      ...this.headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
  }

  /** `data: JSON` (OpenAI); with `event`, also `event: NAME` (Anthropic). */
  send(data: unknown, event?: string): void {
    this.start();
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  }

  end(): void {
    this.start();
    if (!this.res.writableEnded) this.res.end();
  }
}
