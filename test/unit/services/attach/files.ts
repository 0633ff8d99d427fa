// files.ts — documents of known text, generated for the tests: a PDF with one page per list
// of lines (pdf-lib, Helvetica), a DOCX with two headings, a paragraph and a table (docx), and
// a DOCX memo registering 40 project codes.
import { Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow, TextRun } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';

export async function makePdf(pages: string[][]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = doc.addPage([595, 842]);
    lines.forEach((l, i) => page.drawText(l, { x: 50, y: 780 - i * 20, size: 12, font }));
  }
  return doc.save();
}

export async function makeDocx(): Promise<Uint8Array> {
  const cell = (t: string) => new TableCell({ children: [new Paragraph(t)] });
  const doc = new Document({
    sections: [{
      children: [
        new Paragraph({ text: 'Quarterly Review', heading: HeadingLevel.HEADING_1 }),
        new Paragraph({ children: [new TextRun('Revenue grew in every region.')] }),
        new Paragraph({ text: 'Project Codes', heading: HeadingLevel.HEADING_2 }),
        new Table({ rows: [new TableRow({ children: [cell('Code'), cell('Owner')] }), new TableRow({ children: [cell('PX-101'), cell('Amina')] })] }),
        new Paragraph('End of memo.'),
      ],
    }],
  });
  return new Uint8Array(await Packer.toBuffer(doc));
}

/** The memo's codes: PRJ-1000 … PRJ-1039, each with an owner and a budget. */
export const CODES = Array.from({ length: 40 }, (_, i) => ({ code: `PRJ-${1000 + i}`, owner: `Owner ${String.fromCharCode(65 + (i % 26))}${i}`, budget: `${(i + 1) * 25}k` }));

export async function memoDocx(): Promise<Uint8Array> {
  const cell = (t: string) => new TableCell({ children: [new Paragraph(t)] });
  const doc = new Document({
    sections: [{
      children: [
        new Paragraph({ text: 'Memo: active projects', heading: HeadingLevel.HEADING_1 }),
        new Paragraph('Every active project, its code, owner and budget. Cite the code when you answer.'),
        new Paragraph({ text: 'Project register', heading: HeadingLevel.HEADING_2 }),
        new Table({ rows: [new TableRow({ children: [cell('Code'), cell('Owner'), cell('Budget')] }), ...CODES.map((c) => new TableRow({ children: [cell(c.code), cell(c.owner), cell(c.budget)] }))] }),
      ],
    }],
  });
  return new Uint8Array(await Packer.toBuffer(doc));
}
