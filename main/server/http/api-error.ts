// api-error.ts — one error type for every /v1 route; each API family (openai/, anthropic/) writes
// it in its own shape. `kind` is the meaning; the status and each family's type follow from it.
export type ApiErrorKind =
  | 'invalid_request' | 'authentication' | 'permission' | 'not_found' | 'too_large'
  | 'rate_limit' | 'overloaded' | 'unavailable' | 'internal'
  /** A remote engine behind the gateway failed (unreachable, refused the gateway's key, broke mid-stream). */
  | 'upstream';

export const STATUS_OF: Record<ApiErrorKind, number> = {
  invalid_request: 400, authentication: 401, permission: 403, not_found: 404, too_large: 413,
  rate_limit: 429, overloaded: 503, unavailable: 503, internal: 500, upstream: 502,
};

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly opts: { param?: string | null; code?: string | null; retryAfterS?: number } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = STATUS_OF[kind];
  }
}

/** Any thrown value as an ApiError (unknown failures are internal; their message is kept). */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError('internal', (e as Error)?.message ?? String(e));
}
