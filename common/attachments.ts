// attachments.ts — documents attached to a message. The core extracts a file's text
// (main/services/attach/); the text travels inside the user message, each document in one
// <document name="..."> block before the question, so the stored conversation is what the model
// read, an export keeps it, and the same document at the start of two conversations is the same
// prompt prefix (read once by the engine's prefix cache). The renderer shows the blocks as chips.
import { z } from 'zod';

export { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_BASE64, composeMessage, splitMessage, type DocumentPart } from './document-blocks.ts';

export const AttachmentKindSchema = z.enum(['pdf', 'docx', 'markdown', 'html', 'text', 'source']);
export type AttachmentKind = z.infer<typeof AttachmentKindSchema>;

export const AttachmentSchema = z.object({
  name: z.string().min(1).max(500),
  kind: AttachmentKindSchema,
  text: z.string(),
  pages: z.number().int().min(0).nullable(),   // PDF pages ('[page N]' markers), else null
  sections: z.number().int().min(0),           // '[section N: ...]' markers (headings)
  bytes: z.number().int().min(0),              // size of the file
});
export type Attachment = z.infer<typeof AttachmentSchema>;
