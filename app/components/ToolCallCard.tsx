// ToolCallCard.tsx — one tool call inline in the answer: name, arguments, status, result, duration,
// and the tool's note for people (e.g. "demo data"), shown even when the card is folded.
import { useState } from 'react';
import type { ToolCallRecord } from '../contract.ts';
import { fmtMs, prettyJson } from '../format.ts';
import { ApprovalCard } from './ApprovalCard.tsx';

const STATUS_LABEL: Record<ToolCallRecord['status'], string> = {
  streaming: 'writing…', pending: 'queued', awaiting_approval: 'waiting for your approval', running: 'running…', done: 'done', error: 'failed', denied: 'denied',
};

export function ToolCallCard({ call }: { call: ToolCallRecord }) {
  const [open, setOpen] = useState(true);
  return (
    <div className={`tool-card status-${call.status}`} data-testid="tool-call-card" data-name={call.name} data-status={call.status}>
      <button type="button" className="tool-head" onClick={() => setOpen(!open)} aria-expanded={open}>
        <span className="tool-icon" aria-hidden>ƒ</span>
        <span className="tool-name" data-testid="tool-call-name">{call.name || '…'}</span>
        <span className={`tool-status ${call.status}`} data-testid="tool-call-status">{STATUS_LABEL[call.status]}</span>
        {call.durationMs !== null && <span className="tool-duration" data-testid="tool-call-duration">{fmtMs(call.durationMs)}</span>}
        <span className="chev" aria-hidden>{open ? '▾' : '▸'}</span>
      </button>
      {call.note && <div className="tool-note" data-testid="tool-call-note">{call.note}</div>}
      {call.status === 'awaiting_approval' && <ApprovalCard call={call} />}
      {open && (
        <div className="tool-body">
          <div className="tool-section-label">Arguments</div>
          <pre className="tool-args" data-testid="tool-call-args">{prettyJson(call.arguments) || ' '}</pre>
          {call.error && (
            <>
              <div className="tool-section-label">Error</div>
              <pre className="tool-result error-text" data-testid="tool-call-error">{call.error}</pre>
            </>
          )}
          {call.result !== null && (
            <>
              <div className="tool-section-label">Result</div>
              <pre className="tool-result" data-testid="tool-call-result">{prettyJson(call.result)}</pre>
            </>
          )}
        </div>
      )}
    </div>
  );
}
