// tokenizer.ts — KimiTokenizer: Kimi's tiktoken vocabulary, pre-tokenizer and special tokens.
// Ids 0..numBase-1 are byte-level BPE tokens; the reserved ids after them are special tokens whose
// text becomes a special id only where the caller allows it (rendered chat prompts), never in
// ordinary text such as user content.
import { createBpeBackend, type BpeBackend, type BpeBackendName } from './bpe-backend.ts';
import { pretokenize, splitForBpe } from './pretokenizer.ts';
import { createByteStreamDecoder, type StreamDecoder } from './stream-decoder.ts';
import { readVocabFiles, type VocabFiles } from './vocab-files.ts';

export interface EncodeOptions {
  /** Turn special-token text into special ids (true for rendered prompts). Default false. */
  allowSpecial?: boolean;
}

/** A run of prompt text: `special` runs are exactly one special token's text. */
export interface TextSegment { text: string; special: boolean }

function escapeRegex(s: string): string {
  return s.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');
}

/** GPT-2's printable stand-ins for bytes, used by idToToken like HF's convert_ids_to_tokens. */
function byteToUnicode(): string[] {
  const table: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : 256 + n++);
  }
  return table;
}

export class KimiTokenizer {
  readonly numBaseTokens: number;
  readonly vocabSize: number;
  /** Special-token text -> id, every reserved id included. */
  readonly specialIds: Readonly<Record<string, number>>;
  readonly backendName: BpeBackendName;
  private readonly ranks: Uint8Array[];
  private readonly specialText = new Map<number, string>();
  private readonly specialBytes = new Map<number, Uint8Array>();
  private readonly specialRegex: RegExp;
  private readonly backend: BpeBackend;
  private byteChars: string[] | null = null;

  constructor(files: VocabFiles, backend?: BpeBackendName) {
    this.ranks = files.ranks;
    this.numBaseTokens = files.ranks.length;
    this.specialIds = { ...files.specialIds };
    this.vocabSize = this.numBaseTokens + Object.keys(files.specialIds).length;
    const enc = new TextEncoder();
    for (const [text, id] of Object.entries(files.specialIds)) {
      this.specialText.set(id, text);
      this.specialBytes.set(id, enc.encode(text));
    }
    // Longest first, so no special token shadows a longer one that starts with it.
    const names = Object.keys(files.specialIds).sort((a, b) => b.length - a.length);
    this.specialRegex = new RegExp(names.map(escapeRegex).join('|'), 'g');
    this.backend = createBpeBackend(files, backend);
    this.backendName = this.backend.name;
  }

  static fromDir(dir: string, backend?: BpeBackendName): KimiTokenizer {
    return new KimiTokenizer(readVocabFiles(dir), backend);
  }

  /** Ids of text. Special-token text is plain text unless opts.allowSpecial. */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (!opts.allowSpecial) return this.encodeOrdinary(text);
    return this.encodeSegments(this.splitSpecial(text));
  }

  /** Ids of a sequence of segments: special segments become their id, the ordinary text between
   *  two special segments is encoded as one run (so a segment boundary never changes the BPE). */
  encodeSegments(segments: TextSegment[]): number[] {
    const ids: number[] = [];
    let pending = '';
    for (const seg of segments) {
      if (!seg.special) { pending += seg.text; continue; }
      const id = this.specialIds[seg.text];
      if (id === undefined) throw new Error(`not a special token of this vocabulary: ${JSON.stringify(seg.text)}`);
      if (pending) { ids.push(...this.encodeOrdinary(pending)); pending = ''; }
      ids.push(id);
    }
    if (pending) ids.push(...this.encodeOrdinary(pending));
    return ids;
  }

  /** Cuts text at every special-token text (each becomes a special segment). */
  splitSpecial(text: string): TextSegment[] {
    const out: TextSegment[] = [];
    let last = 0;
    this.specialRegex.lastIndex = 0;
    for (const m of text.matchAll(this.specialRegex)) {
      if (m.index > last) out.push({ text: text.slice(last, m.index), special: false });
      out.push({ text: m[0], special: true });
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push({ text: text.slice(last), special: false });
    return out;
  }

  private encodeOrdinary(text: string): number[] {
    if (!text) return [];
    const ids: number[] = [];
    for (const chunk of splitForBpe(text)) {
      if (chunk) for (const id of this.backend.encodeOrdinary(chunk)) ids.push(id);
    }
    return ids;
  }

  /** The pre-tokenizer's pieces of text (special-token text treated as plain text). */
  pieces(text: string): string[] {
    return splitForBpe(text).flatMap((chunk) => pretokenize(chunk));
  }

  /** Frees the BPE backend's native memory now (otherwise garbage collection does). */
  dispose(): void { this.backend.dispose(); }

  isSpecial(id: number): boolean { return this.specialText.has(id); }

  /** The text of a special id, or undefined for a base token. */
  specialName(id: number): string | undefined { return this.specialText.get(id); }

  /** The bytes a token stands for (a special token's text for special ids). */
  bytesOf(id: number): Uint8Array {
    const b = this.ranks[id] ?? this.specialBytes.get(id);
    if (!b) throw new Error(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    return b;
  }

  /** Text of ids; special ids as their text; invalid UTF-8 becomes U+FFFD (as tiktoken decodes). */
  decode(ids: readonly number[]): string {
    const parts = ids.map((id) => this.bytesOf(id));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) { all.set(p, off); off += p.length; }
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(all);
  }

  /** Incremental decoding that holds the bytes of a character still arriving. */
  createStreamDecoder(): StreamDecoder {
    return createByteStreamDecoder((id) => this.bytesOf(id));
  }

  /** The token's string as HF shows it: special tokens by name, bytes in GPT-2's byte alphabet. */
  idToToken(id: number): string {
    const special = this.specialText.get(id);
    if (special !== undefined) return special;
    this.byteChars ??= byteToUnicode();
    const table = this.byteChars;
    return Array.from(this.bytesOf(id), (b) => table[b]).join('');
  }
}
