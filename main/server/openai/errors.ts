// errors.ts — errors in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
import type { ApiError, ApiErrorKind } from '../http/api-error.ts';

const TYPE_OF: Record<ApiErrorKind, string> = {
  invalid_request: 'invalid_request_error', authentication: 'authentication_error', permission: 'permission_error',
  not_found: 'invalid_request_error', too_large: 'invalid_request_error', rate_limit: 'rate_limit_error',
  overloaded: 'server_error', unavailable: 'server_error', internal: 'server_error', upstream: 'server_error',
};

const CODE_OF: Partial<Record<ApiErrorKind, string>> = {
  authentication: 'invalid_api_key', not_found: 'not_found', too_large: 'request_too_large', rate_limit: 'rate_limit_exceeded',
  overloaded: 'server_overloaded', unavailable: 'model_not_ready', upstream: 'upstream_error',
};

export function openaiError(e: ApiError): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message: e.message, type: TYPE_OF[e.kind], param: e.opts.param ?? null, code: e.opts.code ?? CODE_OF[e.kind] ?? null } };
}
