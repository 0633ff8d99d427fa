// body.ts — reads a request body with a size cap (413 past it, without buffering the rest) and
// parses JSON (400 with the parser's reason).
import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.ts';

/** Default cap on a request body; `karakoram serve --max-body-mb` changes it. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(new ApiError('too_large', `request body of ${declared} bytes is over the limit of ${maxBytes} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > maxBytes) {
        done = true;
        reject(new ApiError('too_large', `request body is over the limit of ${maxBytes} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => { if (!done) { done = true; resolve(Buffer.concat(chunks)); } });
    req.on('error', (e) => { if (!done) { done = true; reject(new ApiError('invalid_request', `could not read the request body: ${e.message}`)); } });
  });
}

export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const buf = await readBody(req, maxBytes);
  if (!buf.length) throw new ApiError('invalid_request', 'the request body is empty; expected a JSON object');
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new ApiError('invalid_request', `the request body is not valid JSON: ${(e as Error).message}`);
  }
}
