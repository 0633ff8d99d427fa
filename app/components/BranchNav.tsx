// BranchNav.tsx — "‹ 2 / 3 ›" between the sibling versions of a message (edits, regenerations).
import { siblingsOf } from '../store/tree.ts';
import { useApp } from '../store/index.ts';

export function BranchNav({ messageId }: { messageId: string }) {
  const messages = useApp((s) => s.messages);
  const select = useApp((s) => s.selectBranch);
  const busy = useApp((s) => s.generation !== null);
  const sib = siblingsOf(messages, messageId);
  if (sib.count < 2) return null;
  return (
    <span className="branch-nav" data-testid="branch-nav">
      <button type="button" className="icon-btn" data-testid="branch-prev" disabled={!sib.prevId || busy}
        onClick={() => sib.prevId && select(sib.prevId)} aria-label="Previous version">‹</button>
      <span data-testid="branch-label">{sib.index + 1} / {sib.count}</span>
      <button type="button" className="icon-btn" data-testid="branch-next" disabled={!sib.nextId || busy}
        onClick={() => sib.nextId && select(sib.nextId)} aria-label="Next version">›</button>
    </span>
  );
}
