// partial.ts — makes half-streamed markdown render the way it will once complete: an open code
// fence or $$ math block is closed at the end, so the text already streamed shows inside its
// block instead of flipping the rest of the message into code or math when the closer arrives.
// Half tables need nothing: GFM shows them as text until the delimiter row exists.

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

export interface PartialInfo { text: string; openFence: boolean; openMath: boolean }

export function closePartialMarkdown(src: string): PartialInfo {
  const lines = src.split('\n');
  let fence: string | null = null;         // the open fence's marker, e.g. "```" or "~~~~"
  let mathOpen = false;
  for (const line of lines) {
    const m = FENCE.exec(line);
    if (fence !== null) {
      // A closer uses the same character, at least as many, and nothing after it.
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length && m[2].trim() === '') fence = null;
      continue;
    }
    if (m) { fence = m[1]; continue; }
    // $$ on a line of its own toggles a display-math block; inline $$x$$ on one line balances.
    const count = (line.match(/(?<!\\)\$\$/g) ?? []).length;
    if (count % 2 === 1) mathOpen = !mathOpen;
  }
  let text = src;
  if (fence !== null) text += (text.endsWith('\n') ? '' : '\n') + fence;
  if (fence === null && mathOpen) text += (text.endsWith('\n') ? '' : '\n') + '$$';
  return { text, openFence: fence !== null, openMath: fence === null && mathOpen };
}
