// MessageList.tsx — the visible thread, virtualised so long conversations stay smooth. It sticks
// to the bottom while an answer streams unless the reader has scrolled up.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { useApp } from '../store/index.ts';
import { rowsOf } from '../store/path.ts';
import { AssistantTurn, UserRow } from './MessageItem.tsx';

const ESTIMATED_ROW_PX = 140;
const OVERSCAN_ROWS = 6;
const STICK_THRESHOLD_PX = 120;

export function MessageList() {
  const messages = useApp((s) => s.messages);
  const live = useApp((s) => s.generation?.messageId ?? null);
  const rows = useMemo(() => rowsOf(messages), [messages]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const lastTop = useRef(0);
  const activeId = useApp((s) => s.activeId);
  const v = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: OVERSCAN_ROWS,
    getItemKey: (i) => { const r = rows[i]; return r.kind === 'user' ? r.message.id : `turn:${r.messages[0].id}`; },
  });

  const lastMsg = messages[messages.length - 1];
  const lastSig = lastMsg ? `${lastMsg.id}:${lastMsg.content.length}:${lastMsg.reasoning.length}:${lastMsg.toolCalls.length}:${lastMsg.status}` : '';
  // A new conversation or a new turn brings the view back to the bottom.
  useLayoutEffect(() => { stick.current = true; }, [rows.length, activeId]);
  // Rows are measured after they render and the thread grows as they are: stay pinned.
  useEffect(() => {
    const canvas = canvasRef.current;
    const el = scrollRef.current;
    if (!canvas || !el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => { if (stick.current) el.scrollTop = el.scrollHeight; });
    ro.observe(canvas);
    return () => ro.disconnect();
  }, []);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el || !stick.current) return;
    el.scrollTop = el.scrollHeight;
    const raf = requestAnimationFrame(() => { if (stick.current) el.scrollTop = el.scrollHeight; });
    return () => cancelAnimationFrame(raf);
  }, [lastSig, rows.length, live]);

  return (
    <div className="message-scroll" ref={scrollRef} data-testid="message-list"
      onScroll={(e) => {
        // Only the reader scrolling up unpins; rows growing as they are measured never do.
        const el = e.currentTarget;
        const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_THRESHOLD_PX;
        if (atBottom) stick.current = true;
        else if (el.scrollTop < lastTop.current) stick.current = false;
        lastTop.current = el.scrollTop;
      }}>
      <div className="message-canvas" ref={canvasRef} style={{ height: v.getTotalSize() }}>
        {v.getVirtualItems().map((item) => {
          const r = rows[item.index];
          return (
            <div key={item.key} data-index={item.index} ref={v.measureElement} className="message-row"
              style={{ transform: `translateY(${item.start}px)` }}>
              {r.kind === 'user' ? <UserRow message={r.message} /> : <AssistantTurn messages={r.messages} />}
            </div>
          );
        })}
      </div>
    </div>
  );
}
