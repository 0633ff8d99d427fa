// zod-error.ts — a request body that does not match its schema becomes a 400 naming the field.
import type { z } from 'zod';
import { ApiError } from './api-error.ts';

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.join('.') || '(body)';
  throw new ApiError('invalid_request', `invalid request body at '${path}': ${issue?.message ?? 'does not match the schema'}`, { param: path });
}
