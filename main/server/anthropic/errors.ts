// errors.ts — errors in Anthropic's shape: {"type": "error", "error": {"type", "message"}}.
import type { ApiError, ApiErrorKind } from '../http/api-error.ts';

const TYPE_OF: Record<ApiErrorKind, string> = {
  invalid_request: 'invalid_request_error', authentication: 'authentication_error', permission: 'permission_error',
  not_found: 'not_found_error', too_large: 'request_too_large', rate_limit: 'rate_limit_error',
  overloaded: 'overloaded_error', unavailable: 'overloaded_error', internal: 'api_error', upstream: 'api_error',
};

export function anthropicError(e: ApiError): { type: 'error'; error: { type: string; message: string } } {
  return { type: 'error', error: { type: TYPE_OF[e.kind], message: e.message } };
}
