// document-blocks.ts — how attached documents travel in a user message (no zod: the renderer
// uses these on its hot path). Each document is one <document name="..."> block before the
// question, so the stored conversation is what the model read and the same document opening two
// conversations is the same prompt prefix.

/** Largest file the core accepts for extraction (the bytes travel base64 in one request). */
export const MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024;
/** Base64 length of MAX_ATTACHMENT_BYTES. */
export const MAX_ATTACHMENT_BASE64 = Math.ceil(MAX_ATTACHMENT_BYTES / 3) * 4;

/** What a message carries of a document: its name and text. */
export interface DocumentPart { name: string; text: string }

const OPEN = '<document name="';
const CLOSE = '</document>';

function quoteName(name: string): string { return name.replace(/["\n\r<>]/g, '_'); }

/** The user message: each document's block, then the question. */
export function composeMessage(question: string, docs: DocumentPart[]): string {
  const blocks = docs.map((d) => `${OPEN}${quoteName(d.name)}">\n${d.text}\n${CLOSE}`);
  return [...blocks, question].filter((s) => s.length > 0).join('\n\n');
}

/** The inverse of composeMessage: the leading document blocks and the rest of the message. */
export function splitMessage(content: string): { docs: DocumentPart[]; question: string } {
  const docs: DocumentPart[] = [];
  let rest = content;
  for (;;) {
    if (!rest.startsWith(OPEN)) break;
    const nameEnd = rest.indexOf('">\n', OPEN.length);
    const end = rest.indexOf(`\n${CLOSE}`, nameEnd);
    if (nameEnd < 0 || end < 0) break;
    docs.push({ name: rest.slice(OPEN.length, nameEnd), text: rest.slice(nameEnd + 3, end) });
    rest = rest.slice(end + CLOSE.length + 1).replace(/^\n\n/, '');
  }
  return { docs, question: rest };
}
