// stream-decoder.ts — turns token bytes into text as they arrive. A token may end in the middle of
// a UTF-8 sequence (byte-level BPE splits characters); its bytes wait until the character is
// complete, so no replacement character is ever shown for a character that is still arriving.
export interface StreamDecoder {
  /** The text that the token completes (possibly ''). */
  push(id: number): string;
  /** Whatever is still held; incomplete bytes become U+FFFD, as a full decode would show them. */
  flush(): string;
}

export function createByteStreamDecoder(bytesOf: (id: number) => Uint8Array): StreamDecoder {
  // TextDecoder in streaming mode holds an incomplete trailing sequence between calls.
  let decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  return {
    push(id) { return decoder.decode(bytesOf(id), { stream: true }); },
    flush() {
      const rest = decoder.decode();
      decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
      return rest;
    },
  };
}
