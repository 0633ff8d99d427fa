// Extraction on generated files of known text: a multi-page PDF (pdf-lib), a DOCX with headings
// and a table (docx), HTML, Markdown, text and source; and each bad file: a scan without a text
// layer, an encrypted PDF, a corrupt PDF, a corrupt DOCX, binary bytes, an empty file.
import { describe, expect, it } from 'vitest';
import { PDFDocument, rgb } from 'pdf-lib';
import { makeDocx, makePdf } from './files.ts';
import { AttachmentError, extractAttachment } from '../../../../main/services/attach/extract.ts';
import { composeMessage, splitMessage } from '../../../../common/attachments.ts';

/** A hand-written PDF whose trailer names a Standard security handler with a user password. */
function encryptedPdf(): Uint8Array {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
    `<< /Filter /Standard /V 1 /R 2 /O <${'ab'.repeat(32)}> /U <${'cd'.repeat(32)}> /P -4 >>`,
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R /Encrypt 4 0 R /ID [<${'01'.repeat(16)}> <${'01'.repeat(16)}>] >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}

const bytes = (s: string) => new TextEncoder().encode(s);

async function refusal(name: string, data: Uint8Array): Promise<string> {
  const e = await extractAttachment(name, data).then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(AttachmentError);
  return (e as Error).message;
}

describe('extractAttachment', () => {
  it('reads a multi-page PDF page by page, with [page N] markers', async () => {
    const pdf = await makePdf([['Alpha report, first page.', 'Code PX-101 belongs to Amina.'], ['Second page: budget 4.2 million.'], ['Third page: PX-303 is late.']]);
    const a = await extractAttachment('report.pdf', pdf);
    expect(a.kind).toBe('pdf');
    expect(a.pages).toBe(3);
    const p1 = a.text.indexOf('[page 1]'), p2 = a.text.indexOf('[page 2]'), p3 = a.text.indexOf('[page 3]');
    expect(p1).toBe(0);
    expect(p2).toBeGreaterThan(p1);
    expect(p3).toBeGreaterThan(p2);
    expect(a.text.slice(p1, p2)).toContain('Code PX-101 belongs to Amina.');
    expect(a.text.slice(p2, p3)).toContain('Second page: budget 4.2 million.');
    expect(a.text.slice(p3)).toContain('PX-303 is late.');
  });

  it('reads a DOCX with headings as section markers and the table as rows', async () => {
    const a = await extractAttachment('memo.docx', await makeDocx());
    expect(a.kind).toBe('docx');
    expect(a.sections).toBe(2);
    expect(a.text).toContain('[section 1: Quarterly Review]\n# Quarterly Review');
    expect(a.text).toContain('[section 2: Project Codes]\n## Project Codes');
    expect(a.text).toContain('| Code | Owner |');
    expect(a.text).toContain('| PX-101 | Amina |');
    expect(a.text.indexOf('Revenue grew in every region.')).toBeLessThan(a.text.indexOf('[section 2'));
    expect(a.text.trim().endsWith('End of memo.')).toBe(true);
  });

  it('reads HTML without script or style, Markdown, text and source as they are', async () => {
    const h = await extractAttachment('page.html', bytes('<html><head><style>p{}</style></head><body><h2>Intro</h2><p>Hello <b>world</b></p><script>evil()</script><ul><li>one</li><li>two</li></ul></body></html>'));
    expect(h.text).toBe('[section 1: Intro]\n## Intro\nHello world\n- one\n- two');
    const md = await extractAttachment('notes.md', bytes('# Title\n\nBody\n\n## Part\n'));
    expect(md).toMatchObject({ kind: 'markdown', sections: 2, text: '# Title\n\nBody\n\n## Part\n' });
    expect((await extractAttachment('a.txt', bytes('line 1\r\nline 2'))).text).toBe('line 1\nline 2');
    expect(await extractAttachment('main.py', bytes('def f():\n    return 1\n'))).toMatchObject({ kind: 'source', text: 'def f():\n    return 1\n' });
  });

  it('says a PDF without a text layer is a scan', async () => {
    const doc = await PDFDocument.create();
    doc.addPage([300, 300]).drawRectangle({ x: 10, y: 10, width: 200, height: 200, color: rgb(0.2, 0.2, 0.2) });
    expect(await refusal('scan.pdf', await doc.save())).toMatch(/scan.pdf has no text layer .*OCR/);
  });

  it('says an encrypted PDF needs a password', async () => {
    expect(await refusal('secret.pdf', encryptedPdf())).toMatch(/secret.pdf is encrypted \(password protected\)/);
  });

  it('says a corrupt PDF, a corrupt DOCX, binary bytes and an empty file cannot be read', async () => {
    const good = await makePdf([['x']]);
    expect(await refusal('cut.pdf', good.subarray(0, 40))).toMatch(/cut.pdf is not a readable PDF/);
    expect(await refusal('junk.pdf', bytes('%PDF-1.7\n' + 'garbage '.repeat(50)))).toMatch(/junk.pdf is not a readable PDF/);
    expect(await refusal('broken.docx', bytes('PK\u0003\u0004 not really a zip'))).toMatch(/broken.docx is not a readable Word document/);
    expect(await refusal('blob.bin', new Uint8Array(4096).map((_, i) => (i * 37) % 256))).toMatch(/blob.bin is not a text file/);
    expect(await refusal('empty.txt', new Uint8Array(0))).toMatch(/empty.txt is empty/);
  });
});

describe('composeMessage / splitMessage', () => {
  it('round-trips documents and the question', () => {
    const docs = [{ name: 'a.pdf', text: '[page 1]\nhello' }, { name: 'b "x".docx', text: 'body' }];
    const content = composeMessage('What is in them?', docs);
    expect(content.startsWith('<document name="a.pdf">\n[page 1]\nhello\n</document>\n\n<document name="b _x_.docx">')).toBe(true);
    expect(splitMessage(content)).toEqual({ docs: [docs[0], { name: 'b _x_.docx', text: 'body' }], question: 'What is in them?' });
    expect(splitMessage('plain question')).toEqual({ docs: [], question: 'plain question' });
  });
});
