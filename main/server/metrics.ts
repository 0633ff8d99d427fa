// metrics.ts — Prometheus metrics of the office server at /metrics (text exposition format 0.0.4):
// queue depth, running sequences, requests and tokens by API, tokens/s over a recent window, and
// histograms of time to first token and of queue wait.
import type { QueueSnapshot } from './queue.ts';

/** TTFT / queue-wait histogram bucket bounds, seconds. */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Generated tokens/s is measured over this recent window. */
const RATE_WINDOW_MS = 10_000;

class Histogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_S.length).fill(0);
  sum = 0;
  count = 0;
  observe(v: number): void {
    this.sum += v; this.count++;
    for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) if (v <= LATENCY_BUCKETS_S[i]) this.counts[i]++;
  }
  render(name: string, help: string): string[] {
    const out = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    LATENCY_BUCKETS_S.forEach((b, i) => out.push(`${name}_bucket{le="${b}"} ${this.counts[i]}`));
    out.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return out;
  }
}

function label(v: string): string { return v.replace(/["\\\n]/g, '_'); }

export class ServerMetrics {
  private readonly requests = new Map<string, number>();   // api|status
  private promptTokens = 0;
  private cachedTokens = 0;
  private completionTokens = 0;
  private cancelled = 0;
  private readonly recent: Array<{ at: number; tokens: number }> = [];
  readonly ttft = new Histogram();
  readonly queueWait = new Histogram();

  request(api: string, status: number): void {
    const k = `${api}|${status}`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  tokens(prompt: number, cached: number, completion: number, now = Date.now()): void {
    this.promptTokens += prompt; this.cachedTokens += cached; this.completionTokens += completion;
    if (completion > 0) this.recent.push({ at: now, tokens: completion });
  }

  cancel(): void { this.cancelled++; }

  /** Generated tokens per second over the last RATE_WINDOW_MS. */
  tokensPerSecond(now = Date.now()): number {
    while (this.recent.length && this.recent[0].at < now - RATE_WINDOW_MS) this.recent.shift();
    return this.recent.reduce((n, x) => n + x.tokens, 0) / (RATE_WINDOW_MS / 1000);
  }

  render(q: QueueSnapshot, connections: number, engineInFlight: number): string {
    const lines: string[] = [
      '# HELP karakoram_engine_generations Generations the engine process has not finished.', '# TYPE karakoram_engine_generations gauge', `karakoram_engine_generations ${engineInFlight}`,
      '# HELP karakoram_queue_depth Requests waiting for a slot.', '# TYPE karakoram_queue_depth gauge', `karakoram_queue_depth ${q.queued}`,
      '# HELP karakoram_running_sequences Requests generating now.', '# TYPE karakoram_running_sequences gauge', `karakoram_running_sequences ${q.running}`,
      '# HELP karakoram_open_connections Open HTTP and WebSocket connections.', '# TYPE karakoram_open_connections gauge', `karakoram_open_connections ${connections}`,
      '# HELP karakoram_generated_tokens_per_second Generated tokens per second over the last 10 s.', '# TYPE karakoram_generated_tokens_per_second gauge',
      `karakoram_generated_tokens_per_second ${this.tokensPerSecond()}`,
      '# HELP karakoram_requests_total API requests by API and status.', '# TYPE karakoram_requests_total counter',
    ];
    for (const [k, n] of [...this.requests].sort()) {
      const [api, status] = k.split('|');
      lines.push(`karakoram_requests_total{api="${label(api)}",status="${status}"} ${n}`);
    }
    lines.push(
      '# HELP karakoram_prompt_tokens_total Prompt tokens read.', '# TYPE karakoram_prompt_tokens_total counter', `karakoram_prompt_tokens_total ${this.promptTokens}`,
      '# HELP karakoram_cached_prompt_tokens_total Prompt tokens served from the prefix cache.', '# TYPE karakoram_cached_prompt_tokens_total counter', `karakoram_cached_prompt_tokens_total ${this.cachedTokens}`,
      '# HELP karakoram_completion_tokens_total Tokens generated.', '# TYPE karakoram_completion_tokens_total counter', `karakoram_completion_tokens_total ${this.completionTokens}`,
      '# HELP karakoram_cancelled_total Requests cancelled by their client.', '# TYPE karakoram_cancelled_total counter', `karakoram_cancelled_total ${this.cancelled}`,
      ...this.ttft.render('karakoram_time_to_first_token_seconds', 'Request received to first generated token.'),
      ...this.queueWait.render('karakoram_queue_wait_seconds', 'Time a request waited for a slot.'),
    );
    return `${lines.join('\n')}\n`;
  }
}
