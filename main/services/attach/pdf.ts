// pdf.ts — text of a PDF, page by page, with '[page N]' before each page so answers can cite
// pages. pdfjs-dist (Mozilla's PDF.js) reads it; its legacy build runs in Node without a canvas.
// A PDF whose pages carry no text (a scan), one that needs a password, and one that is not a
// readable PDF each get their own message.
import { AttachmentError } from './errors.ts';

/** Below this many letters or digits in the whole file, it has no usable text layer. */
const MIN_TEXT_CHARS = 16;
// pdf.js marks the last item of a line with hasEOL: a newline follows it.

export interface PdfText { text: string; pages: number }

type TextItem = { str?: string; hasEOL?: boolean };

export async function pdfToText(bytes: Uint8Array, name: string): Promise<PdfText> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  // pdf.js takes ownership of the buffer it is given: hand it a copy.
  const task = pdfjs.getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, useSystemFonts: false, verbosity: 0 });
  let doc;
  try {
    doc = await task.promise;
  } catch (e) {
    const kind = (e as { name?: string }).name;
    if (kind === 'PasswordException') throw new AttachmentError(`${name} is encrypted (password protected); open it, save an unprotected copy, and attach that`);
    throw new AttachmentError(`${name} is not a readable PDF (${(e as Error).message}); the file may be damaged or incomplete`);
  }
  try {
    const parts: string[] = [];
    let letters = 0;
    for (let p = 1; p <= doc.numPages; p++) {
      const page = await doc.getPage(p);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items as TextItem[]) {
        if (typeof item.str !== 'string') continue;
        text += item.str;
        text += item.hasEOL ? '\n' : '';
      }
      text = text.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
      letters += (text.match(/[\p{L}\p{N}]/gu) ?? []).length;
      parts.push(`[page ${p}]\n${text}`);
      page.cleanup();
    }
    if (letters < MIN_TEXT_CHARS) {
      throw new AttachmentError(`${name} has no text layer (${doc.numPages} page${doc.numPages === 1 ? '' : 's'} of images, likely a scan); run it through OCR first, then attach the result`);
    }
    return { text: parts.join('\n\n'), pages: doc.numPages };
  } finally {
    await doc.destroy();
  }
}
