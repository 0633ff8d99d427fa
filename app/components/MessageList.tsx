// MessageList.tsx — the visible thread, virtualised so long conversations stay smooth. It sticks
// to the bottom while an answer streams unless the reader has scrolled up.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useLayoutEffect, useMemo, useRef } from 'react';
import type { MessageView } from '../contract.ts';
import { useApp } from '../store/index.ts';
import { visiblePath } from '../store/tree.ts';
import { MessageItem } from './MessageItem.tsx';

const ESTIMATED_ROW_PX = 140;
const OVERSCAN_ROWS = 6;
const STICK_THRESHOLD_PX = 120;

export function MessageList() {
  const messages = useApp((s) => s.messages);
  const selected = useApp((s) => s.selected);
  const live = useApp((s) => s.generation?.messageId ?? null);
  const { rows, toolResults } = useMemo(() => {
    const path = visiblePath(messages, selected);
    // Tool results fold into their call's card when that card exists.
    const results: Record<string, MessageView> = {};
    const callIds = new Set(path.flatMap((m) => m.toolCalls.map((c) => c.id)));
    const shown: MessageView[] = [];
    for (const m of path) {
      if (m.role === 'tool' && m.toolCallId && callIds.has(m.toolCallId)) { results[m.toolCallId] = m; continue; }
      if (m.role === 'system') continue;
      shown.push(m);
    }
    return { rows: shown, toolResults: results };
  }, [messages, selected]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const v = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: OVERSCAN_ROWS,
    getItemKey: (i) => rows[i].id,
  });

  const lastRow = rows[rows.length - 1];
  const lastSig = lastRow ? `${lastRow.id}:${lastRow.content.length}:${lastRow.reasoning.length}:${lastRow.toolCalls.length}` : '';
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el || !stick.current) return;
    el.scrollTop = el.scrollHeight;
    const raf = requestAnimationFrame(() => { if (stick.current) el.scrollTop = el.scrollHeight; });
    return () => cancelAnimationFrame(raf);
  }, [lastSig, rows.length, live]);

  // A new thread or a new turn brings the view back to the bottom.
  useLayoutEffect(() => { stick.current = true; }, [rows.length]);

  return (
    <div className="message-scroll" ref={scrollRef} data-testid="message-list"
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_THRESHOLD_PX;
      }}>
      <div className="message-canvas" style={{ height: v.getTotalSize() }}>
        {v.getVirtualItems().map((item) => {
          const m = rows[item.index];
          return (
            <div key={item.key} data-index={item.index} ref={v.measureElement} className="message-row"
              style={{ transform: `translateY(${item.start}px)` }}>
              <MessageItem message={m} toolResults={toolResults} isLast={item.index === rows.length - 1} />
            </div>
          );
        })}
      </div>
    </div>
  );
}
