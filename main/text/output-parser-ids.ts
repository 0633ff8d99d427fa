// output-parser-ids.ts — the output parser over generated token ids. Ordinary tokens are decoded as
// they stream (a character split across tokens waits for its last byte); a special id is written
// as its text, which the text parser reads as a marker. Stop ids (<|im_end|>, [EOS]) end the turn.
import type { FinishReason, OutputEvent } from '../../common/chat-types.ts';
import { createTextOutputParser, type OutputParserOptions } from './output-parser.ts';
import type { KimiTokenizer } from './tokenizer.ts';

export interface IdOutputParser {
  push(id: number): OutputEvent[];
  finish(reason: FinishReason): OutputEvent[];
}

export function createIdOutputParser(tokenizer: KimiTokenizer, opts: OutputParserOptions = {}): IdOutputParser {
  const text = createTextOutputParser(opts);
  const decoder = tokenizer.createStreamDecoder();
  return {
    push(id) {
      const special = tokenizer.specialName(id);
      if (special === undefined) return text.push(decoder.push(id));
      // Bytes still held before a special token can never complete: show them as a full decode would.
      const pending = decoder.flush();
      return text.push(pending + special);
    },
    finish(reason) {
      const pending = decoder.flush();
      const events = pending ? text.push(pending) : [];
      return [...events, ...text.finish(reason)];
    },
  };
}
