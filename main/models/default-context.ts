// default-context.ts — the context window the app uses when the user has not set one: as much of
// the model's own maximum as this machine's memory allows. The KV cache of the CPU engine lives in
// RAM, so the budget is a share of the RAM left after the weights and the runtime; the tokens that
// budget holds at the cache's real bytes per token (its precision, common/kv-cache.ts) cap the
// model's maximum. An explicit setting always wins (capped at the model's maximum, which the
// engine refuses to pass). Pure: the machine's figures come in as arguments.
import { num, type Config } from './config.ts';

/** Share of the RAM left after weights and runtime that a default context's KV cache may take:
 *  the rest stays for the other programs and the page cache that serves mmapped weights. */
export const KV_MEMORY_SHARE = 0.25;
/** A default context is a multiple of this many tokens (the context meter proposes in these steps). */
export const CONTEXT_BLOCK_TOKENS = 4096;
/** Never default below this (or the model's maximum when that is smaller): a shorter window is
 *  not worth a chat, and the memory plan says when even this does not fit. */
export const CONTEXT_FLOOR_TOKENS = 4096;
/** What the engine's loader assumes when a config names neither a maximum nor YaRN scaling
 *  (native/src/model/config.cpp kDefaultMaxPos). */
export const LOADER_DEFAULT_MAX_POSITION = 4096;

/** The model's own context limit as the loader reads it: max_position_embeddings; without it the
 *  YaRN window (original × factor); else the loader's default. */
export function modelMaxContext(text: Config): number {
  const max = num(text, 'max_position_embeddings');
  if (max > 0) return max;
  const rs = text.rope_scaling as Config | undefined;
  const scaled = rs ? Math.floor(num(rs, 'original_max_position_embeddings') * num(rs, 'factor')) : 0;
  return scaled > 0 ? scaled : LOADER_DEFAULT_MAX_POSITION;
}

export interface ContextInput {
  setting: number | null;        // the user's context setting (null: not set)
  maxContext: number;            // modelMaxContext of the model's config
  kvBytesPerToken: number;       // at the precision the engine caches in
  weightsBytes: number;
  overheadBytes: number;         // runtime memory beyond weights and cache
  ramAvailableBytes: number;     // free RAM now (MemAvailable)
}

export type ContextSource = 'setting' | 'model' | 'memory' | 'floor';

export interface ContextChoice {
  tokens: number;
  source: ContextSource;
  /** One line for the model panel: "context 131,072: …". */
  why: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
const pct = `${Math.round(KV_MEMORY_SHARE * 100)}%`;

export function chooseContext(i: ContextInput): ContextChoice {
  const max = Math.max(1, Math.floor(i.maxContext));
  if (i.setting !== null) {
    const tokens = Math.min(i.setting, max);
    return { tokens, source: 'setting', why: tokens < i.setting ? `context ${fmt(tokens)}: your setting, capped at the model's maximum` : `context ${fmt(tokens)}: your setting` };
  }
  const free = Math.max(0, i.ramAvailableBytes - i.weightsBytes - i.overheadBytes);
  const budget = free * KV_MEMORY_SHARE;
  const fitTokens = i.kvBytesPerToken > 0 ? Math.floor(budget / i.kvBytesPerToken) : Infinity;
  if (fitTokens >= max) {
    return { tokens: max, source: 'model', why: `context ${fmt(max)}: the model's maximum; its cache (${gib(max * i.kvBytesPerToken)}) fits in ${pct} of the RAM free after the weights (${gib(free)})` };
  }
  const floor = Math.min(CONTEXT_FLOOR_TOKENS, max);
  const blocks = Math.floor(fitTokens / CONTEXT_BLOCK_TOKENS) * CONTEXT_BLOCK_TOKENS;
  if (blocks < floor) {
    return { tokens: floor, source: 'floor', why: `context ${fmt(floor)}: the minimum; ${pct} of the RAM free after the weights (${gib(free)}) holds fewer tokens` };
  }
  return { tokens: blocks, source: 'memory', why: `context ${fmt(blocks)}: what fits in ${pct} of the RAM free after the weights (${gib(free)}); the model allows ${fmt(max)}` };
}
