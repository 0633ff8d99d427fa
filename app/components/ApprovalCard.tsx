// ApprovalCard.tsx — the inline decision for a tool call waiting in the reasoning trace: which
// tool, of which server, with which (already validated) arguments; Allow once / Allow for this
// conversation / Always allow this tool / Deny, with an optional message the model receives.
import { useState } from 'react';
import type { ToolCallRecord } from '../contract.ts';
import { prettyJson } from '../format.ts';
import { useApp } from '../store/index.ts';
import type { ApprovalKind } from '../store/types.ts';

export function ApprovalCard({ call }: { call: ToolCallRecord }) {
  const decide = useApp((s) => s.decideToolCall);
  const [message, setMessage] = useState('');
  const [sent, setSent] = useState(false);
  const answer = (kind: ApprovalKind) => { setSent(true); void decide(call.id, kind, kind === 'deny' ? message : undefined); };
  return (
    <div className="approval-card" data-testid="approval-card" data-name={call.name} role="group" aria-label={`Approve ${call.name}`}>
      <div className="approval-title">
        Run <strong data-testid="approval-tool">{call.name}</strong>
        {call.server && <> from <span className="approval-server" data-testid="approval-server">{call.server}</span></>}?
      </div>
      <pre className="tool-args" data-testid="approval-args">{prettyJson(call.arguments)}</pre>
      <div className="approval-actions">
        <button type="button" className="btn primary" data-testid="approve-once" disabled={sent} onClick={() => answer('allow_once')}>Allow once</button>
        <button type="button" className="btn" data-testid="approve-conversation" disabled={sent} onClick={() => answer('allow_conversation')}>Allow for this conversation</button>
        <button type="button" className="btn" data-testid="approve-always" disabled={sent} onClick={() => answer('always_tool')}>Always allow this tool</button>
      </div>
      <div className="approval-deny">
        <input type="text" data-testid="deny-message" placeholder="Optional message to the model" value={message} disabled={sent}
          onChange={(e) => setMessage(e.target.value)} />
        <button type="button" className="btn danger" data-testid="deny" disabled={sent} onClick={() => answer('deny')}>Deny</button>
      </div>
    </div>
  );
}
