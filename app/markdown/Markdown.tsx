// Markdown.tsx — safe markdown for model output: GFM (tables, strikethrough, task lists), code
// with highlighting and a copy button, KaTeX math. Raw HTML is never rendered (no rehype-raw), and
// a render failure falls back to the plain text rather than losing the message.
import { Children, Component, isValidElement, memo, useRef, useState, type ReactElement, type ReactNode } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import rehypeKatex from 'rehype-katex';
import remarkGfm from 'remark-gfm';
import remarkMath from 'remark-math';
import { closePartialMarkdown } from './partial.ts';

const REMARK = [remarkGfm, remarkMath];
const REHYPE: NonNullable<Parameters<typeof ReactMarkdown>[0]['rehypePlugins']> = [
  [rehypeKatex, { throwOnError: false, strict: 'ignore', output: 'htmlAndMathml' }],
  [rehypeHighlight, { detect: false, ignoreMissing: true }],
];
const COPIED_FEEDBACK_MS = 1500;

function CodeBlock({ children, className }: { children?: ReactNode; className?: string }) {
  const ref = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState(false);
  const codeEl = Children.toArray(children).find(isValidElement) as ReactElement<{ className?: string }> | undefined;
  const codeClass = codeEl?.props.className ?? '';
  const lang = /language-([\w+-]+)/.exec(codeClass)?.[1];
  const copy = async () => {
    const text = ref.current?.querySelector('code')?.textContent ?? ref.current?.textContent ?? '';
    try { await navigator.clipboard.writeText(text); } catch { fallbackCopy(text); }
    setCopied(true);
    setTimeout(() => setCopied(false), COPIED_FEEDBACK_MS);
  };
  return (
    <div className="code-block" data-testid="code-block">
      <div className="code-head">
        <span className="code-lang">{lang ?? 'code'}</span>
        <button type="button" className="code-copy" data-testid="code-copy" onClick={copy}>{copied ? 'Copied' : 'Copy'}</button>
      </div>
      <pre ref={ref} className={className}>{children}</pre>
    </div>
  );
}

function fallbackCopy(text: string) {
  const ta = document.createElement('textarea');
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  try { document.execCommand('copy'); } catch { /* nothing more to try */ }
  ta.remove();
}

const COMPONENTS: Components = {
  pre: ({ children, className }) => <CodeBlock className={className}>{children}</CodeBlock>,
  a: ({ children, href }) => <a href={href} target="_blank" rel="noreferrer noopener">{children}</a>,
  table: ({ children }) => <div className="table-wrap"><table>{children}</table></div>,
};

class Boundary extends Component<{ text: string; children: ReactNode }, { failed: boolean; forText: string }> {
  override state = { failed: false, forText: '' };
  static getDerivedStateFromError() { return { failed: true }; }
  override componentDidUpdate(prev: { text: string }) {
    // New text (the next streamed token) gets a fresh attempt.
    if (this.state.failed && prev.text !== this.props.text) this.setState({ failed: false });
  }
  override render() {
    if (this.state.failed) return <div className="md-fallback" data-testid="md-fallback">{this.props.text}</div>;
    return this.props.children;
  }
}

export const Markdown = memo(function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  const src = streaming ? closePartialMarkdown(text).text : text;
  return (
    <Boundary text={src}>
      <div className="md" data-testid="markdown">
        <ReactMarkdown remarkPlugins={REMARK} rehypePlugins={REHYPE} components={COMPONENTS}>{src}</ReactMarkdown>
      </div>
    </Boundary>
  );
});
