// bpe-backend.ts — the byte-pair merges, delegated to a kept library. Both backends take one chunk
// of ordinary text (no special tokens: the tokenizer splits those off first) and run Kimi's
// pre-tokenizer pattern and the merges over it.
//   - 'wasm': the `tiktoken` package (OpenAI's Rust tiktoken compiled to WASM) with a custom
//     encoding; it runs KIMI_PATTERN_RUST in fancy-regex, the very code the reference uses.
//   - 'js':   `js-tiktoken`, pure JavaScript; it runs KIMI_PATTERN_JS.
// scripts/bench-tokenizer.ts measures both; DEFAULT_BPE_BACKEND is the faster one.
import { Tiktoken as WasmTiktoken } from 'tiktoken';
import { Tiktoken as JsTiktoken } from 'js-tiktoken/lite';
import { KIMI_PATTERN_JS, KIMI_PATTERN_RUST } from './pretokenizer.ts';
import type { VocabFiles } from './vocab-files.ts';

export type BpeBackendName = 'wasm' | 'js';

/** Chosen from scripts/bench-tokenizer.ts (see main/text/README.md for the figures). */
export const DEFAULT_BPE_BACKEND: BpeBackendName = 'wasm';

export interface BpeBackend {
  readonly name: BpeBackendName;
  /** Ids of one chunk of text in which special-token text is plain text. */
  encodeOrdinary(chunk: string): number[];
  /** Frees native memory now (the WASM encoder); later calls throw. Optional: GC frees it too. */
  dispose(): void;
}

// The WASM encoder lives outside the JS heap: free it when its backend is collected, so loading
// one model after another does not grow memory.
const wasmFinalizer = new FinalizationRegistry<WasmTiktoken>((enc) => enc.free());

class WasmBackend implements BpeBackend {
  readonly name = 'wasm' as const;
  private readonly enc: WasmTiktoken;
  constructor(files: VocabFiles) {
    this.enc = new WasmTiktoken(files.tiktokenText, files.specialIds, KIMI_PATTERN_RUST);
    wasmFinalizer.register(this, this.enc, this);
  }
  encodeOrdinary(chunk: string): number[] {
    return Array.from(this.enc.encode_ordinary(chunk));
  }
  dispose(): void {
    wasmFinalizer.unregister(this);
    this.enc.free();
  }
}

class JsBackend implements BpeBackend {
  readonly name = 'js' as const;
  private readonly enc: JsTiktoken;
  constructor(files: VocabFiles) {
    // js-tiktoken's rank format: lines of `<name> <first rank> <base64 token> <base64 token> ...`.
    const tokens = files.ranks.map((b) => Buffer.from(b).toString('base64'));
    this.enc = new JsTiktoken({
      pat_str: KIMI_PATTERN_JS,
      special_tokens: files.specialIds,
      bpe_ranks: `! 0 ${tokens.join(' ')}`,
    });
  }
  encodeOrdinary(chunk: string): number[] {
    // allowed = [] and disallowed = []: special-token text is encoded as ordinary text.
    return this.enc.encode(chunk, [], []);
  }
  dispose(): void { /* plain JS memory */ }
}

export function createBpeBackend(files: VocabFiles, name: BpeBackendName = DEFAULT_BPE_BACKEND): BpeBackend {
  return name === 'wasm' ? new WasmBackend(files) : new JsBackend(files);
}
