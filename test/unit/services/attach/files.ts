// files.ts — documents of known text, generated for the tests: a PDF with one page per list
// of lines (pdf-lib, Helvetica) and a DOCX with two headings, a paragraph and a table (docx).
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

