// errors.ts — why a file could not be read as a document. The message is shown to the user as is.
export class AttachmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AttachmentError';
  }
}
