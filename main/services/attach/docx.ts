// docx.ts — text of a Word document: mammoth turns it into semantic HTML (headings, lists,
// tables), which html.ts turns into text with section markers and table rows.
import mammoth from 'mammoth';
import { AttachmentError } from './errors.ts';
import { htmlToText, type HtmlText } from './html.ts';

export async function docxToText(bytes: Uint8Array, name: string): Promise<HtmlText> {
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) })).value;
  } catch (e) {
    throw new AttachmentError(`${name} is not a readable Word document (${(e as Error).message}); the file may be damaged, or it is an old .doc`);
  }
  const out = htmlToText(html);
  if (!out.text) throw new AttachmentError(`${name} has no text`);
  return out;
}
