// ContextMeter.tsx — the next prompt's exact token count (system, tools, history, attachments,
// message) against the context window and the KV memory it needs. When it will not fit: a
// warning with the choices — drop older turns, drop an attachment, raise the context setting
// (offered only when the model and free memory allow). Nothing is cut silently.
import { fmtBytes, fmtCount } from '../format.ts';
import { useApp } from '../store/index.ts';
import { selectEffectiveRemote } from '../store/providers.ts';

export function ContextMeter() {
  const total = useApp((s) => s.meter?.totalTokens ?? null);
  const ctx = useApp((s) => s.meter?.contextLength ?? 0);
  const fits = useApp((s) => s.meter?.fits ?? true);
  const breakdown = useApp((s) => {
    const p = s.meter?.parts;
    if (!p) return '';
    return [['system', p.system], ['tools', p.tools], ['history', p.history], ['attachments', p.attachments], ['message', p.message]]
      .filter(([, n]) => (n as number) > 0).map(([k, n]) => `${k} ${fmtCount(n as number)}`).join(' · ');
  });
  const kv = useApp((s) => s.meter?.kvBytesNeeded ?? 0);
  const remote = useApp(selectEffectiveRemote);
  const composing = useApp((s) => s.draft.trim().length > 0 || s.attachments.length > 0);
  if (remote && composing) return <RemoteMeter name={remote.name} maxContext={remote.capabilities.maxContext} />;
  if (total === null) return null;
  const frac = ctx ? Math.min(1, total / ctx) : 0;
  return (
    <div className={`context-meter ${fits ? '' : 'over'}`} data-testid="context-meter" data-fits={fits ? 'true' : 'false'}>
      <span className="meter-count" data-testid="context-meter-count" data-tokens={total}>{total.toLocaleString('en-US')} / {ctx.toLocaleString('en-US')} tokens</span>
      <span className="meter-bar"><span style={{ width: `${Math.round(frac * 100)}%` }} /></span>
      <span className="meter-detail" title="Exact count of the prompt as the model will read it">{breakdown}{kv ? ` · KV ${fmtBytes(kv)}` : ''}</span>
      {!fits && <OverContext />}
    </div>
  );
}

/**
 * A remote engine tokenizes with its own template: Karakoram cannot count the prompt here, so the
 * meter says so (and what the remote's window is, where it told) instead of disappearing.
 */
function RemoteMeter({ name, maxContext }: { name: string; maxContext: number | null }) {
  return (
    <div className="context-meter" data-testid="context-meter" data-remote="true">
      <span className="meter-count" data-testid="context-meter-count">remote: not reported</span>
      <span className="meter-detail">{name} counts the prompt on its side{maxContext ? ` (its context is ${fmtCount(maxContext)} tokens)` : ''}; a prompt too long for it is refused with its message</span>
    </div>
  );
}

function OverContext() {
  const needed = useApp((s) => (s.meter ? s.meter.totalTokens + s.meter.answerReserve : 0));
  const ctx = useApp((s) => s.meter?.contextLength ?? 0);
  const raiseTo = useApp((s) => s.meter?.raiseContextTo ?? null);
  const turns = useApp((s) => s.meter?.historyTurns ?? 0);
  const attachments = useApp((s) => s.attachments.length);
  const dropOlder = useApp((s) => s.dropOlderTurns);
  const removeAttachment = useApp((s) => s.removeAttachment);
  const raise = useApp((s) => s.raiseContext);
  return (
    <div className="meter-warning" role="alert" data-testid="context-warning">
      This needs {fmtCount(needed)} tokens with room for the answer; the context is {fmtCount(ctx)}. Nothing will be cut: choose
      {turns > 0 && <button type="button" className="btn small" data-testid="drop-older-turns" onClick={() => void dropOlder()}>Drop older turns (new conversation)</button>}
      {attachments > 0 && <button type="button" className="btn small" data-testid="drop-attachment" onClick={() => removeAttachment(attachments - 1)}>Drop the last attachment</button>}
      {raiseTo !== null
        ? <button type="button" className="btn small" data-testid="raise-context" onClick={() => void raise(raiseTo)}>Raise the context to {fmtCount(raiseTo)}</button>
        : <span className="meter-note"> (a larger context does not fit this model or this machine&apos;s memory)</span>}
    </div>
  );
}
