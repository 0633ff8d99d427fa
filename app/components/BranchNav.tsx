// BranchNav.tsx — "‹ 2 / 3 ›" between the sibling versions of a message (edits, regenerations).
import type { Message } from '../contract.ts';
import { useApp } from '../store/index.ts';

export function BranchNav({ message }: { message: Message }) {
  const switchBranch = useApp((s) => s.switchBranch);
  const busy = useApp((s) => s.generation !== null);
  const sibs = message.siblingIds.length ? message.siblingIds : [message.id];
  if (sibs.length < 2) return null;
  const i = Math.max(0, sibs.indexOf(message.id));
  const prev = sibs[i - 1];
  const next = sibs[i + 1];
  return (
    <span className="branch-nav" data-testid="branch-nav">
      <button type="button" className="icon-btn" data-testid="branch-prev" disabled={!prev || busy}
        onClick={() => prev && void switchBranch(prev)} aria-label="Previous version">‹</button>
      <span data-testid="branch-label">{i + 1} / {sibs.length}</span>
      <button type="button" className="icon-btn" data-testid="branch-next" disabled={!next || busy}
        onClick={() => next && void switchBranch(next)} aria-label="Next version">›</button>
    </span>
  );
}
