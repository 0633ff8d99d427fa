// tree.ts — conversations are trees: editing a user message or regenerating an answer adds a
// sibling. The visible thread follows, from the root, the selected child of each node (or the
// newest child when none was chosen).
import type { MessageView } from '../contract.ts';

export const ROOT = '__root__';

export function childrenIndex(messages: Record<string, MessageView>): Map<string, MessageView[]> {
  const idx = new Map<string, MessageView[]>();
  for (const m of Object.values(messages)) {
    const key = m.parentId ?? ROOT;
    let arr = idx.get(key);
    if (!arr) { arr = []; idx.set(key, arr); }
    arr.push(m);
  }
  for (const arr of idx.values()) arr.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  return idx;
}

export function visiblePath(messages: Record<string, MessageView>, selected: Record<string, string>): MessageView[] {
  const idx = childrenIndex(messages);
  const out: MessageView[] = [];
  let key = ROOT;
  const seen = new Set<string>();
  for (;;) {
    const kids = idx.get(key);
    if (!kids || kids.length === 0) break;
    const pick = kids.find((k) => k.id === selected[key]) ?? kids[kids.length - 1];
    if (seen.has(pick.id)) break;     // defensive: a cycle in stored data must not hang the UI
    seen.add(pick.id);
    out.push(pick);
    key = pick.id;
  }
  return out;
}

/** The selection that makes `leafId` visible: every ancestor picks the branch leading to it. */
export function selectionFor(messages: Record<string, MessageView>, leafId: string): Record<string, string> {
  const sel: Record<string, string> = {};
  let cur = messages[leafId];
  const seen = new Set<string>();
  while (cur && !seen.has(cur.id)) {
    seen.add(cur.id);
    sel[cur.parentId ?? ROOT] = cur.id;
    cur = cur.parentId ? messages[cur.parentId] : undefined!;
  }
  return sel;
}

export interface SiblingInfo { index: number; count: number; prevId?: string; nextId?: string }

export function siblingsOf(messages: Record<string, MessageView>, id: string): SiblingInfo {
  const m = messages[id];
  if (!m) return { index: 0, count: 1 };
  const idx = childrenIndex(messages);
  const sibs = (idx.get(m.parentId ?? ROOT) ?? [m]).filter((s) => s.role === m.role);
  const i = Math.max(0, sibs.findIndex((s) => s.id === id));
  return { index: i, count: sibs.length, prevId: sibs[i - 1]?.id, nextId: sibs[i + 1]?.id };
}
