// Attachments.tsx — the documents attached to the next message: a picker button, chips with the
// extracted text's size and markers, a preview of what the model will read, and the reason a
// file was refused. Drag-and-drop and paste land in Composer.tsx through readFiles().
import { useRef } from 'react';
import { fmtBytes, fmtCount } from '../format.ts';
import { useApp } from '../store/index.ts';

/** Files from a picker, a drop or a paste, as bytes for the core. */
export async function readFiles(list: FileList | File[]): Promise<Array<{ name: string; bytes: Uint8Array }>> {
  return Promise.all([...list].map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

/** What the picker offers (anything else can still be dropped; the core says what it cannot read). */
const ACCEPT = '.pdf,.docx,.md,.markdown,.html,.htm,.txt,.csv,.json,.xml,.yaml,.yml,.toml,.js,.ts,.tsx,.py,.rs,.go,.c,.h,.cpp,.hpp,.java,.kt,.rb,.sh,.sql,text/*';

export function AttachButton() {
  const attachFiles = useApp((s) => s.attachFiles);
  const busy = useApp((s) => s.generation !== null);
  const ref = useRef<HTMLInputElement>(null);
  return (
    <>
      <input ref={ref} type="file" multiple hidden accept={ACCEPT} data-testid="attach-input"
        onChange={(e) => { const files = e.target.files; if (files?.length) void readFiles(files).then(attachFiles); e.target.value = ''; }} />
      <button type="button" className="btn attach" data-testid="attach-button" disabled={busy} title="Attach documents (PDF, Word, HTML, Markdown, text, code) — or drop or paste them"
        onClick={() => ref.current?.click()}>📎 Attach</button>
    </>
  );
}

export function AttachmentTray() {
  const count = useApp((s) => s.attachments.length);
  const attaching = useApp((s) => s.attaching);
  const error = useApp((s) => s.attachError);
  const clearError = useApp((s) => s.clearAttachError);
  const preview = useApp((s) => s.previewIndex);
  if (!count && !attaching && !error) return null;
  return (
    <div className="attach-tray" data-testid="attach-tray">
      <div className="attach-chips">
        {Array.from({ length: count }, (_, i) => <AttachmentChip key={i} index={i} />)}
        {attaching > 0 && <span className="chip busy" data-testid="attach-busy">Reading {attaching} file{attaching > 1 ? 's' : ''}…</span>}
      </div>
      {error && (
        <div className="attach-error" role="alert" data-testid="attach-error">
          {error} <button type="button" className="btn link" onClick={clearError}>Dismiss</button>
        </div>
      )}
      {preview !== null && <AttachmentPreview index={preview} />}
    </div>
  );
}

function AttachmentChip({ index }: { index: number }) {
  const name = useApp((s) => s.attachments[index]?.name ?? '');
  const detail = useApp((s) => {
    const a = s.attachments[index];
    if (!a) return '';
    const tokens = s.meter?.attachments[index]?.tokens;
    const parts = [a.pages !== null ? `${a.pages} page${a.pages === 1 ? '' : 's'}` : a.sections ? `${a.sections} sections` : fmtBytes(a.bytes)];
    if (tokens !== undefined) parts.push(`${fmtCount(tokens)} tokens`);
    return parts.join(' · ');
  });
  const open = useApp((s) => s.previewIndex === index);
  const setPreview = useApp((s) => s.setPreview);
  const remove = useApp((s) => s.removeAttachment);
  return (
    <span className={`chip attachment ${open ? 'open' : ''}`} data-testid="attachment-chip">
      <button type="button" className="chip-main" title="Preview the text the model will read" onClick={() => setPreview(open ? null : index)}>
        <span className="chip-name">{name}</span> <span className="chip-detail" data-testid="attachment-detail">{detail}</span>
      </button>
      <button type="button" className="chip-remove" aria-label={`Remove ${name}`} data-testid="attachment-remove" onClick={() => remove(index)}>×</button>
    </span>
  );
}

function AttachmentPreview({ index }: { index: number }) {
  const text = useApp((s) => s.attachments[index]?.text ?? '');
  const name = useApp((s) => s.attachments[index]?.name ?? '');
  return (
    <div className="attach-preview" data-testid="attachment-preview">
      <div className="attach-preview-title">Text the model will read from {name}</div>
      <pre>{text}</pre>
    </div>
  );
}
