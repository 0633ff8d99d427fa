// generation-config.ts — sampling defaults from the model's generation_config.json, and the ids
// that end a turn: the config's eos ids plus <|im_end|> and [EOS] from the vocabulary.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sampling } from '../../common/contract.ts';

/** The model's sampling defaults, in the contract's names (SamplingSchema), and its stop ids. */
export type GenerationDefaults = Required<Pick<Sampling, 'temperature' | 'topP'>> & Pick<Sampling, 'topK' | 'maxTokens'> & {
  /** Generation stops when one of these is produced (the id itself is part of the output). */
  stopIds: number[];
};

/** Used when the model ships no generation_config.json (Kimi K2-Thinking's recommendation). */
export const FALLBACK_TEMPERATURE = 1.0;
export const FALLBACK_TOP_P = 1.0;
/** Special tokens that end an assistant turn, whatever the config says. */
export const TURN_END_TOKENS = ['<|im_end|>', '[EOS]'];

/** The defaults as contract sampling settings (what the settings panel shows as placeholders). */
export function defaultSampling(d: GenerationDefaults): Sampling {
  return { temperature: d.temperature, topP: d.topP, ...(d.topK ? { topK: d.topK } : {}), ...(d.maxTokens ? { maxTokens: d.maxTokens } : {}) };
}

export function readGenerationDefaults(dir: string, specialIds: Readonly<Record<string, number>>): GenerationDefaults {
  const path = join(dir, 'generation_config.json');
  const cfg = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
  const stop = new Set<number>();
  for (const name of TURN_END_TOKENS) if (specialIds[name] !== undefined) stop.add(specialIds[name]);
  const eos = cfg.eos_token_id;
  for (const id of Array.isArray(eos) ? eos : eos === undefined ? [] : [eos]) {
    if (typeof id === 'number') stop.add(id);
  }
  const num = (k: string) => (typeof cfg[k] === 'number' ? (cfg[k] as number) : undefined);
  // do_sample: false in HF means greedy whatever the temperature says.
  const greedy = cfg.do_sample === false;
  const out: GenerationDefaults = {
    temperature: greedy ? 0 : num('temperature') ?? FALLBACK_TEMPERATURE,
    topP: num('top_p') ?? FALLBACK_TOP_P,
    stopIds: [...stop],
  };
  const topK = num('top_k');
  if (topK !== undefined && topK > 0) out.topK = topK;
  const maxTokens = num('max_new_tokens');
  if (maxTokens !== undefined) out.maxTokens = maxTokens;
  return out;
}
