// models.ts — GET /v1/models and /v1/models/{id}: the model this server serves (the one loaded),
// limited to what the caller's key may use.
import type { ApiContext } from '../api-context.ts';
import { ApiError } from '../http/api-error.ts';

const CREATED_UNKNOWN = 0;

function entry(id: string) { return { id, object: 'model', created: CREATED_UNKNOWN, owned_by: 'karakoram' }; }

export function listModels(ctx: ApiContext): void {
  const id = ctx.deps.gen.modelId();
  const allowed = id !== null && (!ctx.principal.models.length || ctx.principal.models.includes(id));
  ctx.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: allowed ? [entry(id)] : [] }));
}

export function getModel(ctx: ApiContext, name: string): void {
  const id = ctx.deps.gen.modelId();
  if (id !== name || (ctx.principal.models.length && !ctx.principal.models.includes(id))) {
    throw new ApiError('not_found', `The model '${name}' does not exist on this server`, { param: 'model', code: 'model_not_found' });
  }
  ctx.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entry(id)));
}
