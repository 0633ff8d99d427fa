// models.ts — GET /v1/models and /v1/models/{id}: the model this server serves (the one loaded)
// and the model of each remote engine the gateway puts behind this server's keys, limited to what
// the caller's key may use. The context length is given where it is known (vLLM's max_model_len).
import type { ApiContext } from '../api-context.ts';
import { ApiError } from '../http/api-error.ts';

const CREATED_UNKNOWN = 0;

function entry(m: { id: string; ownedBy: string; maxContext: number | null }) {
  return { id: m.id, object: 'model', created: CREATED_UNKNOWN, owned_by: m.ownedBy, ...(m.maxContext !== null ? { max_model_len: m.maxContext } : {}) };
}

function visible(ctx: ApiContext) {
  const scope = ctx.principal.models;
  return ctx.deps.gen.modelIds().filter((m) => !scope.length || scope.includes(m.id));
}

export function listModels(ctx: ApiContext): void {
  ctx.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: visible(ctx).map(entry) }));
}

export function getModel(ctx: ApiContext, name: string): void {
  const m = visible(ctx).find((x) => x.id === name);
  if (!m) throw new ApiError('not_found', `The model '${name}' does not exist on this server`, { param: 'model', code: 'model_not_found' });
  ctx.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entry(m)));
}
