// html.ts — HTML to plain text for the model: block elements become lines, headings keep their
// level as '#' marks and become section markers, table rows become ' | '-separated lines, script
// and style are dropped. parse5 parses (the WHATWG algorithm), so broken markup still reads.
import { parse, parseFragment } from 'parse5';

type Node = { nodeName: string; tagName?: string; value?: string; childNodes?: Node[] };

const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'head', 'svg']);
const BLOCKS = new Set(['p', 'div', 'section', 'article', 'header', 'footer', 'main', 'aside', 'nav', 'blockquote', 'pre',
  'ul', 'ol', 'dl', 'dt', 'dd', 'figure', 'figcaption', 'table', 'thead', 'tbody', 'tfoot', 'form', 'hr', 'address']);
const HEADING = /^h([1-6])$/;

export interface HtmlText { text: string; sections: string[] }

/** Text of an HTML document or fragment, with '[section N: title]' before each heading. */
export function htmlToText(html: string): HtmlText {
  const root = (/<html[\s>]/i.test(html) ? parse(html) : parseFragment(html)) as unknown as Node;
  const out: string[] = [];
  const sections: string[] = [];
  let line = '';
  const flush = () => {
    const t = line.replace(/[ \t\u00a0]+/g, ' ').trim();
    if (t && t !== '-') out.push(t);
    line = '';
  };
  const textOf = (n: Node): string => {
    if (n.nodeName === '#text') return n.value ?? '';
    if (n.tagName && SKIPPED.has(n.tagName)) return '';
    if (n.tagName === 'br') return ' ';
    return (n.childNodes ?? []).map(textOf).join('');
  };
  const walk = (n: Node): void => {
    if (n.nodeName === '#text') { line += (n.value ?? '').replace(/\s+/g, ' '); return; }
    const tag = n.tagName;
    if (tag && SKIPPED.has(tag)) return;
    const h = tag ? HEADING.exec(tag) : null;
    if (h) {
      flush();
      const title = textOf(n).replace(/\s+/g, ' ').trim();
      if (title) {
        sections.push(title);
        out.push('', `[section ${sections.length}: ${title}]`, `${'#'.repeat(Number(h[1]))} ${title}`);
      }
      return;
    }
    if (tag === 'tr') {
      flush();
      const cells = (n.childNodes ?? []).filter((c) => c.tagName === 'td' || c.tagName === 'th')
        .map((c) => textOf(c).replace(/\s+/g, ' ').trim());
      if (cells.some((c) => c)) out.push(`| ${cells.join(' | ')} |`);
      return;
    }
    if (tag === 'br') { flush(); return; }
    const block = !!tag && (BLOCKS.has(tag) || tag === 'li');
    if (block) flush();
    if (tag === 'li') line = '- ';
    for (const c of n.childNodes ?? []) walk(c);
    if (block) flush();
  };
  walk(root);
  flush();
  return { text: out.join('\n').replace(/\n{3,}/g, '\n\n').trim(), sections };
}
