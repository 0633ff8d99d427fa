// EnginePicker.tsx — which engine this conversation generates with, beside the composer: the
// default (the Remote engines section's choice), the local engine, or one of the remotes. Shown
// once a remote exists; a conversation keeps its choice, so one chat can stay on the cluster while
// another uses the workstation's own model.
import { LOCAL_PROVIDER } from '../contract.ts';
import { useApp } from '../store/index.ts';
import { selectEffectiveRemote } from '../store/providers.ts';

export function EnginePicker() {
  const remotes = useApp((s) => s.providers.remotes);
  const defaultName = useApp((s) => (s.providers.active ? s.providers.remotes.find((r) => r.id === s.providers.active)?.name ?? null : null));
  const choice = useApp((s) => s.conversation?.provider ?? null);
  const hasConversation = useApp((s) => s.conversation !== null);
  const effective = useApp((s) => selectEffectiveRemote(s)?.id ?? LOCAL_PROVIDER);
  const busy = useApp((s) => s.generation !== null);
  const set = useApp((s) => s.setConversationProvider);
  if (!hasConversation || remotes.length === 0) return null;
  // A choice naming a removed remote shows as the default it falls back to.
  const value = choice === LOCAL_PROVIDER || remotes.some((r) => r.id === choice) ? choice! : '';
  return (
    <label className="small engine-picker" title="The engine this conversation generates with">
      Engine{' '}
      <select className="input small" data-testid="engine-picker" data-effective={effective} value={value} disabled={busy}
        onChange={(e) => void set(e.target.value === '' ? null : e.target.value)}>
        <option value="">Default ({defaultName ?? 'local engine'})</option>
        <option value={LOCAL_PROVIDER}>Local engine</option>
        {remotes.map((r) => <option key={r.id} value={r.id}>{r.name} · {r.model}</option>)}
      </select>
    </label>
  );
}
