// tool-call-id.ts — Kimi K2's tool-call ids: `functions.NAME:IDX`. The OpenAI id is the raw text;
// the function name is what lies between the last '.' and the ':' that starts the index (as
// vLLM's and SGLang's kimi_k2 parsers take it: id.split(':')[0].split('.')[-1]).

/** The function name of a K2 tool-call id, or null when none can be read from it. */
export function toolNameFromId(id: string): string | null {
  const colon = id.lastIndexOf(':');
  const head = colon >= 0 ? id.slice(0, colon) : id;
  const name = head.slice(head.lastIndexOf('.') + 1).trim();
  return name ? name : null;
}
