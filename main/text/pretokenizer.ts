// pretokenizer.ts — Kimi's pre-tokenizer: the regex that cuts text into pieces before BPE, and the
// 400,000-character / 25,000-run splitting that tokenization_kimi.py applies before that.
//
// The reference pattern (Rust regex syntax, run by tiktoken's fancy-regex) is KIMI_PATTERN_RUST.
// JavaScript has no `&&` class intersection under the `u` flag and no inline `(?i:)` in Node 20, so
// KIMI_PATTERN_JS spells it out:
//   - `[\p{Han}]`                       -> `\p{Script=Han}` (Rust's `\p{Han}` is the script);
//   - `[X&&[^\p{Han}]]`                 -> `(?:(?!\p{Script=Han})[X])` (a lookahead per character,
//                                          valid with the `u` flag that js-tiktoken compiles with);
//   - `(?i:'s|'t|...)`                  -> each letter as a class of its simple case folds (Rust
//                                          folds `s` with `S` and U+017F LONG S);
//   - `\s` / `\S`                       -> `\p{White_Space}` / `\P{White_Space}`: JS `\s` adds U+FEFF
//                                          and lacks U+0085, Rust's `\s` is exactly White_Space.
export const KIMI_PATTERN_RUST = [
  String.raw`[\p{Han}]+`,
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
  String.raw`\p{N}{1,3}`,
  String.raw` ?[^\s\p{L}\p{N}]+[\r\n]*`,
  String.raw`\s*[\r\n]+`,
  String.raw`\s+(?!\S)`,
  String.raw`\s+`,
].join('|');

const S = String.raw`\p{White_Space}`;
const NOT_S = String.raw`\P{White_Space}`;
const NOT_HAN = String.raw`(?!\p{Script=Han})`;
const UPPERISH = String.raw`(?:${NOT_HAN}[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}])`;
const LOWERISH = String.raw`(?:${NOT_HAN}[\p{Ll}\p{Lm}\p{Lo}\p{M}])`;
const CONTRACTION = String.raw`(?:'[sS\u017F]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`;

export const KIMI_PATTERN_JS = [
  String.raw`\p{Script=Han}+`,
  String.raw`[^\r\n\p{L}\p{N}]?${UPPERISH}*${LOWERISH}+${CONTRACTION}?`,
  String.raw`[^\r\n\p{L}\p{N}]?${UPPERISH}+${LOWERISH}*${CONTRACTION}?`,
  String.raw`\p{N}{1,3}`,
  String.raw` ?[^${S}\p{L}\p{N}]+[\r\n]*`,
  String.raw`${S}*[\r\n]+`,
  String.raw`${S}+(?!${NOT_S})`,
  String.raw`${S}+`,
].join('|');

/** tiktoken can encode at most this many characters at once without a Rust panic. */
export const MAX_ENCODE_CHARS = 400_000;
/** Longest run of consecutive whitespace or non-whitespace characters handed to BPE at once
 *  (tiktoken's regex backtracking and merge loop are quadratic in the run length). */
export const MAX_CONSECUTIVE_RUN_CHARS = 25_000;

/** Python's str.isspace(): Unicode White_Space plus the separators U+001C..U+001F
 *  (bidi classes B and S), which tokenization_kimi.py's run splitter uses. */
function isPythonSpace(cp: number): boolean {
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp === 0x85 || cp === 0xa0 ||
    cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 ||
    cp === 0x202f || cp === 0x205f || cp === 0x3000;
}

/**
 * Cuts text the way tokenization_kimi.py does before BPE: chunks of at most MAX_ENCODE_CHARS
 * characters, each cut again wherever a run of whitespace or non-whitespace would exceed
 * MAX_CONSECUTIVE_RUN_CHARS. Lengths count code points, as Python's do, and a cut never splits a
 * surrogate pair. Most texts come back as one piece.
 */
export function splitForBpe(text: string, maxChunk = MAX_ENCODE_CHARS, maxRun = MAX_CONSECUTIVE_RUN_CHARS): string[] {
  const out: string[] = [];
  let chunkChars = 0;    // code points in the current chunk so far
  let sliceStart = 0;    // UTF-16 index where the current output slice starts
  let runLen = 0;
  let runIsSpace = false;
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (chunkChars === maxChunk) {           // start a new 400K chunk: the run count restarts
      out.push(text.slice(sliceStart, i));
      sliceStart = i;
      chunkChars = 0;
    }
    const isSpace = isPythonSpace(cp);
    if (chunkChars === 0) { runIsSpace = isSpace; runLen = 0; }
    if (runIsSpace !== isSpace) { runLen = 1; runIsSpace = isSpace; }
    else if (++runLen > maxRun) { out.push(text.slice(sliceStart, i)); sliceStart = i; runLen = 1; }
    chunkChars += 1;
    i += width;
  }
  if (sliceStart < text.length || out.length === 0) out.push(text.slice(sliceStart));
  return out;
}

let jsRegex: RegExp | null = null;

/** The pre-tokenizer's pieces of one BPE chunk (a string from splitForBpe). */
export function pretokenize(chunk: string): string[] {
  jsRegex ??= new RegExp(KIMI_PATTERN_JS, 'gu');
  return chunk.match(jsRegex) ?? [];
}
