// vocab-files.ts — reads Kimi's tokenizer files from a model directory: `tiktoken.model` (one base
// token a line, `<base64 bytes> <rank>`) and the names of the reserved ids after them from
// `tokenizer_config.json` `added_tokens_decoder`. Nothing about ids is hard-coded: an id in the
// reserved range with no entry is `<|reserved_token_ID|>`, as Kimi's tokenization_kimi.py names it.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** Kimi reserves this many ids after the base vocabulary for special tokens. */
export const NUM_RESERVED_SPECIAL_TOKENS = 256;

export interface VocabFiles {
  /** The raw text of tiktoken.model (the WASM backend parses it itself). */
  tiktokenText: string;
  /** ranks[id] = the bytes of base token id; ids are dense from 0. */
  ranks: Uint8Array[];
  /** Special-token text -> id, for every reserved id. */
  specialIds: Record<string, number>;
  /** The parsed tokenizer_config.json (chat_template, bos/eos names, ...). */
  tokenizerConfig: Record<string, unknown>;
}

interface AddedToken { content: string }

export function parseTiktokenModel(text: string): Uint8Array[] {
  const ranks: Uint8Array[] = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo += 1;
    if (!line.trim()) continue;
    const [b64, rankStr] = line.trim().split(/\s+/);
    const rank = Number(rankStr);
    if (!b64 || !Number.isInteger(rank)) throw new Error(`tiktoken.model line ${lineNo}: expected '<base64> <rank>'`);
    if (rank !== ranks.length) throw new Error(`tiktoken.model line ${lineNo}: rank ${rank} out of order (expected ${ranks.length})`);
    ranks.push(new Uint8Array(Buffer.from(b64, 'base64')));
  }
  return ranks;
}

export function readVocabFiles(dir: string): VocabFiles {
  const modelPath = join(dir, 'tiktoken.model');
  const configPath = join(dir, 'tokenizer_config.json');
  if (!existsSync(modelPath)) throw new Error(`${modelPath}: missing (Kimi models ship their vocabulary as tiktoken.model)`);
  const tiktokenText = readFileSync(modelPath, 'utf8');
  const ranks = parseTiktokenModel(tiktokenText);
  const tokenizerConfig = existsSync(configPath)
    ? (JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>) : {};
  const decoder = (tokenizerConfig.added_tokens_decoder ?? {}) as Record<string, AddedToken>;
  const specialIds: Record<string, number> = {};
  for (let id = ranks.length; id < ranks.length + NUM_RESERVED_SPECIAL_TOKENS; id++) {
    const name = decoder[String(id)]?.content ?? `<|reserved_token_${id}|>`;
    specialIds[name] = id;
  }
  return { tiktokenText, ranks, specialIds, tokenizerConfig };
}
