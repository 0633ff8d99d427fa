// @vitest-environment jsdom
// markdown.test.tsx — model output renders safely while it streams: every prefix of a reply
// with a code block, a table and display math renders without throwing and shows its text;
// open fences and $$ blocks are closed; raw HTML is never rendered.
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Markdown } from '../../../app/markdown/Markdown.tsx';
import { closePartialMarkdown } from '../../../app/markdown/partial.ts';

afterEach(cleanup);

const REPLY = [
  'Here is **the plan**:',
  '',
  '| City | Temp |',
  '| --- | ---: |',
  '| Paris | 18 °C |',
  '',
  '```python',
  'def area(r):',
  '    return 3.14159 * r ** 2',
  '```',
  '',
  'The area is $A = \\pi r^2$, and',
  '',
  '$$',
  '\\int_0^1 x^2\\,dx = \\frac{1}{3}',
  '$$',
  '',
  'Done.',
].join('\n');

describe('closePartialMarkdown', () => {
  it('closes an open code fence with the same marker', () => {
    expect(closePartialMarkdown('text\n```js\nconst a = 1').text).toBe('text\n```js\nconst a = 1\n```');
    expect(closePartialMarkdown('~~~~\nx\n').text).toBe('~~~~\nx\n~~~~');
    const closed = 'a\n```\nb\n```\n';
    expect(closePartialMarkdown(closed)).toEqual({ text: closed, openFence: false, openMath: false });
  });
  it('closes an open $$ block but not one inside code or balanced on a line', () => {
    expect(closePartialMarkdown('$$\n\\frac{1}{').text).toBe('$$\n\\frac{1}{\n$$');
    expect(closePartialMarkdown('inline $$x$$ done').openMath).toBe(false);
    expect(closePartialMarkdown('```\n$$\n```').openMath).toBe(false);
  });
});

describe('Markdown while streaming', () => {
  it('renders every prefix of a rich reply without throwing and shows its text', () => {
    const { container, rerender } = render(<Markdown text="" streaming />);
    for (let n = 1; n <= REPLY.length; n += 4) {
      const prefix = REPLY.slice(0, n);
      rerender(<Markdown text={prefix} streaming />);
      expect(container.querySelector('[data-testid="md-fallback"]')).toBeNull();
      // The last word streamed is on screen (math is rendered, so check only plain words).
      const words = prefix.split(/[^A-Za-z]+/).filter((w) => w.length > 3 && !/^(frac|int|dx|python|def|return|area|City|Temp)$/.test(w));
      const last = words[words.length - 1];
      if (last && !/\$[^$]*$/.test(prefix)) expect(container.textContent).toContain(last);
    }
  });

  it('shows an unclosed code fence as a code block with its text', () => {
    const { container } = render(<Markdown text={'Try:\n```js\nconst answer = 42;\nconsole.log(ans'} streaming />);
    const block = container.querySelector('[data-testid="code-block"]');
    expect(block).not.toBeNull();
    expect(block!.textContent).toContain('console.log(ans');
    expect(block!.querySelector('.code-lang')!.textContent).toBe('js');
    expect(container.querySelector('[data-testid="code-copy"]')).not.toBeNull();
  });

  it('shows half a table as text, then a table once the delimiter row arrives', () => {
    const half = render(<Markdown text={'| City | Temp |\n| --'} streaming />);
    expect(half.container.textContent).toContain('City');
    expect(half.container.querySelector('table')).toBeNull();
    half.unmount();
    const full = render(<Markdown text={'| City | Temp |\n| --- | --- |\n| Paris |'} streaming />);
    expect(full.container.querySelector('table')).not.toBeNull();
    expect(full.container.querySelector('td')!.textContent).toBe('Paris');
  });

  it('renders half-written math without throwing and complete math with KaTeX', () => {
    const half = render(<Markdown text={'Area: $$\n\\frac{1}{'} streaming />);
    expect(half.container.querySelector('[data-testid="md-fallback"]')).toBeNull();
    expect(half.container.textContent).toContain('Area');
    half.unmount();
    const inline = render(<Markdown text={'cost is $5 and $x'} streaming />);
    expect(inline.container.textContent).toContain('cost is');
    inline.unmount();
    const done = render(<Markdown text={'$$\n\\frac{1}{3}\n$$'} />);
    expect(done.container.querySelector('.katex')).not.toBeNull();
  });

  it('highlights code, renders GFM, and never renders raw HTML', () => {
    const { container } = render(<Markdown text={'```python\ndef f(): return 1\n```\n\n~~old~~ <img src=x onerror=alert(1)><script>alert(1)</script>'} />);
    expect(container.querySelector('pre code.hljs, pre code[class*="language-python"]')).not.toBeNull();
    expect(container.querySelector('.hljs-keyword')?.textContent).toBe('def');
    expect(container.querySelector('del')?.textContent).toBe('old');
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('script')).toBeNull();
  });
});
