// completions.ts — POST /v1/completions (legacy text completions): the prompt is tokenized as it
// is (special-token text in it becomes special ids, as a raw prompt means), the output is the
// raw text up to a turn-end token or stop string. OpenAI's default max_tokens here is 16.
import { acquire, checkModelScope, generate, type ApiContext } from '../api-context.ts';
import type { GenResult } from '../generation.ts';
import { ApiError } from '../http/api-error.ts';
import { SseWriter } from '../http/sse.ts';
import { parseBody } from '../http/zod-error.ts';
import { openaiFinish, openaiUsage } from './chat.ts';
import { openaiError } from './errors.ts';
import { responseId, unixSeconds } from './ids.ts';
import { CompletionRequest, stopList } from './schema.ts';

/** OpenAI's default max_tokens for /v1/completions. */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

export async function completions(ctx: ApiContext, raw: unknown): Promise<void> {
  const body = parseBody(CompletionRequest, raw);
  checkModelScope(ctx.principal, body.model);
  const model = ctx.deps.gen.resolveModel(body.model, '/v1/completions');
  const prompt = Array.isArray(body.prompt) ? body.prompt[0] : body.prompt;
  const prepared = ctx.deps.gen.prepare({ kind: 'local', name: model.name, model }, {
    raw: { prompt }, stop: stopList(body.stop), maxTokens: body.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS,
    sampling: { temperature: body.temperature ?? undefined, topP: body.top_p ?? undefined, seed: body.seed ?? undefined, presencePenalty: body.presence_penalty ?? undefined, frequencyPenalty: body.frequency_penalty ?? undefined },
  });
  const id = responseId('cmpl-');
  const created = unixSeconds();
  const base = { id, object: 'text_completion', created, model: model.name };
  if (!body.stream) {
    const r = await generate(ctx, prepared, () => undefined);
    if (r.finishReason === 'cancelled') return;
    ctx.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      ...base, choices: [{ index: 0, text: r.output.content, logprobs: null, finish_reason: openaiFinish(r.finishReason) }], usage: openaiUsage(r),
    }));
    return;
  }
  const slot = await acquire(ctx, prepared);
  const sse = new SseWriter(ctx.res);
  let r: GenResult;
  try {
    r = await slot.run((e) => { if (e.type === 'content') sse.send({ ...base, choices: [{ index: 0, text: e.delta, logprobs: null, finish_reason: null }] }); });
  } catch (e) {
    sse.send(openaiError(e instanceof ApiError ? e : new ApiError('internal', String(e))));
    sse.end();
    return;
  }
  if (r.finishReason === 'cancelled') { sse.end(); return; }
  sse.send({ ...base, choices: [{ index: 0, text: '', logprobs: null, finish_reason: openaiFinish(r.finishReason) }] });
  if (body.stream_options?.include_usage) sse.send({ ...base, choices: [], usage: openaiUsage(r) });
  sse.send('[DONE]');
  sse.end();
}
