// attach.ts — documents attached to the next message and the context meter. Files are read as
// bytes here and extracted by the core (extractAttachment); the meter asks the core for the
// exact token count of the prompt the message would make (measureContext). When it does not
// fit, the choices: drop older turns (a new conversation keeps the draft and attachments), drop
// an attachment, or raise the context setting.
import type { Attachment, ContextCount } from '../contract.ts';
import type { AttachSlice, SliceCreator } from './types.ts';

/** Bytes per chunk when turning a file into base64 (String.fromCharCode's argument limit). */
const BASE64_CHUNK = 0x8000;

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += BASE64_CHUNK) bin += String.fromCharCode(...bytes.subarray(i, i + BASE64_CHUNK));
  return btoa(bin);
}

export const createAttachSlice: SliceCreator<AttachSlice> = (set, get, api) => {
  let measureSeq = 0;
  return {
    attachments: [],
    attaching: 0,
    attachError: null,
    meter: null,
    previewIndex: null,

    async attachFiles(files) {
      set({ attachError: null });
      for (const f of files) {
        set({ attaching: get().attaching + 1 });
        try {
          const a: Attachment = await api.extractAttachment({ name: f.name, data: toBase64(f.bytes) });
          set({ attachments: [...get().attachments, a] });
        } catch (e) {
          set({ attachError: msg(e) });
        } finally {
          set({ attaching: get().attaching - 1 });
        }
      }
      void get().measure();
    },

    removeAttachment(index) {
      set({ attachments: get().attachments.filter((_, i) => i !== index), previewIndex: null });
      void get().measure();
    },

    setPreview(index) { set({ previewIndex: index }); },
    clearAttachError() { set({ attachError: null }); },

    async measure() {
      const seq = ++measureSeq;
      const s = get();
      if (!s.attachments.length && !s.draft.trim()) { set({ meter: null }); return; }
      try {
        const m: ContextCount = await api.measureContext({
          conversationId: s.activeId, question: s.draft, attachments: s.attachments.map((a) => ({ name: a.name, text: a.text })),
        });
        if (seq === measureSeq) set({ meter: m });
      } catch {
        // No model loaded, or a remote engine: no meter (the core still refuses what does not fit).
        if (seq === measureSeq) set({ meter: null });
      }
    },

    async dropOlderTurns() {
      const draft = get().draft;
      const id = await get().newConversation();
      if (id) { set({ draft }); await get().measure(); }
    },

    async raiseContext(tokens) {
      await get().updateSettings({ contextLength: tokens });
      await get().measure();
    },
  };
};
