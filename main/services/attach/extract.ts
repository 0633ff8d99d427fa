// extract.ts — a file's bytes to the text the model reads, by kind: PDF (pdf.ts), DOCX
// (docx.ts), HTML (html.ts), Markdown / plain text / source code (UTF-8 as is). Runs in the core
// (never the renderer); the kind comes from the bytes where they say (PDF, zip) and the name.
import { extname } from 'node:path';
import { MAX_ATTACHMENT_BYTES, type Attachment, type AttachmentKind } from '../../../common/attachments.ts';
import { docxToText } from './docx.ts';
import { AttachmentError } from './errors.ts';
import { htmlToText } from './html.ts';
import { pdfToText } from './pdf.ts';

export { AttachmentError } from './errors.ts';

const MARKDOWN = new Set(['.md', '.markdown', '.mdx']);
const HTML = new Set(['.html', '.htm', '.xhtml']);
const TEXT = new Set(['.txt', '.text', '.log', '.csv', '.tsv', '']);
/** Share of U+FFFD / control characters above which bytes are not text. */
const MAX_BINARY_FRACTION = 0.01;

function kindOf(name: string, bytes: Uint8Array): AttachmentKind {
  const head = Buffer.from(bytes.subarray(0, 8)).toString('latin1');
  const ext = extname(name).toLowerCase();
  if (head.startsWith('%PDF-') || ext === '.pdf') return 'pdf';
  if (ext === '.docx') return 'docx';
  if (HTML.has(ext)) return 'html';
  if (MARKDOWN.has(ext)) return 'markdown';
  if (TEXT.has(ext)) return 'text';
  return 'source';
}

function decodeText(bytes: Uint8Array, name: string): string {
  const text = new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
  const bad = (text.match(/[\uFFFD\u0000-\u0008\u000E-\u001F]/g) ?? []).length;
  if (text.length > 0 && bad / text.length > MAX_BINARY_FRACTION) {
    throw new AttachmentError(`${name} is not a text file (binary content); attach a PDF, Word (.docx), HTML, Markdown, text or source file`);
  }
  return text.replace(/\r\n?/g, '\n');
}

/** The attachment a file makes; an AttachmentError says why one cannot be made. */
export async function extractAttachment(name: string, bytes: Uint8Array): Promise<Attachment> {
  if (bytes.length > MAX_ATTACHMENT_BYTES) {
    throw new AttachmentError(`${name} is ${(bytes.length / 2 ** 20).toFixed(1)} MiB; files up to ${MAX_ATTACHMENT_BYTES / 2 ** 20} MiB can be attached`);
  }
  if (bytes.length === 0) throw new AttachmentError(`${name} is empty`);
  const kind = kindOf(name, bytes);
  const base = { name, kind, bytes: bytes.length };
  switch (kind) {
    case 'pdf': {
      const r = await pdfToText(bytes, name);
      return { ...base, text: r.text, pages: r.pages, sections: 0 };
    }
    case 'docx': {
      const r = await docxToText(bytes, name);
      return { ...base, text: r.text, pages: null, sections: r.sections.length };
    }
    case 'html': {
      const r = htmlToText(decodeText(bytes, name));
      if (!r.text) throw new AttachmentError(`${name} has no text`);
      return { ...base, text: r.text, pages: null, sections: r.sections.length };
    }
    default: {
      const text = decodeText(bytes, name);
      if (!text.trim()) throw new AttachmentError(`${name} has no text`);
      const sections = kind === 'markdown' ? (text.match(/^#{1,6} /gm) ?? []).length : 0;
      return { ...base, text, pages: null, sections };
    }
  }
}
