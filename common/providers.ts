// providers.ts — where generation runs: the local engine, or a remote OpenAI-compatible endpoint
// (vLLM, SGLang, KTransformers' server, Ollama, another Karakoram, a hosted API). Shared by the
// core and the renderer (the settings page adds remotes); the key itself never travels to the
// renderer — only whether one is set.
import { z } from 'zod';

/** Where a remote's reasoning arrives in a streamed delta: vLLM/SGLang's reasoning parsers write
 *  `reasoning_content` (newer vLLM and Ollama write `reasoning`); 'auto' reads either. */
export const ReasoningFieldSchema = z.enum(['auto', 'reasoning_content', 'reasoning']);
export type ReasoningField = z.infer<typeof ReasoningFieldSchema>;

/** What a provider can do; the app says what is missing instead of failing. */
export const ProviderCapabilitiesSchema = z.object({
  /** The endpoint parses tool calls (vLLM: --enable-auto-tool-choice --tool-call-parser kimi_k2). */
  tools: z.boolean(),
  reasoningField: ReasoningFieldSchema,
  /** Context window in tokens; null: unknown (the server enforces its own). */
  maxContext: z.number().int().min(1).nullable(),
  /** The stream reports token usage (stream_options.include_usage). */
  tokenCounts: z.boolean(),
  /** Karakoram can see and steer prefix reuse (only the local engine can). */
  prefixCache: z.boolean(),
  /** The server accepts vLLM/SGLang's extra sampling fields (top_k, min_p, repetition_penalty). */
  extraSampling: z.boolean(),
});
export type ProviderCapabilities = z.infer<typeof ProviderCapabilitiesSchema>;

export const DEFAULT_REMOTE_CAPABILITIES: ProviderCapabilities = {
  tools: true, reasoningField: 'auto', maxContext: null, tokenCounts: true, prefixCache: false, extraSampling: true,
};

const Url = z.string().min(1).max(2000).refine((s) => {
  try { const u = new URL(s); return u.protocol === 'http:' || u.protocol === 'https:'; } catch { return false; }
}, 'must be an http:// or https:// URL');

/** A remote endpoint as configured (the key included: this shape stays in the core). */
export const RemoteEndpointSchema = z.object({
  id: z.string().min(1).max(100),
  name: z.string().min(1).max(200),
  /** The OpenAI base URL, e.g. http://gpu-box:8000/v1 (a bare host gets /v1). */
  baseUrl: Url,
  /** Sent as `Authorization: Bearer KEY`; '' for servers without authentication. */
  apiKey: z.string().max(4096),
  /** The served model id (vLLM's --served-model-name, or the path it was started with). */
  model: z.string().min(1).max(500),
  capabilities: ProviderCapabilitiesSchema,
});
export type RemoteEndpoint = z.infer<typeof RemoteEndpointSchema>;

/** A remote as the renderer sees it: the key is never sent back, only whether there is one. */
export const RemoteEndpointViewSchema = RemoteEndpointSchema.omit({ apiKey: true }).extend({ hasKey: z.boolean() });
export type RemoteEndpointView = z.infer<typeof RemoteEndpointViewSchema>;

/** Models a server lists at GET /v1/models (with the context length where the server says). */
export const RemoteModelSchema = z.object({ id: z.string(), maxContext: z.number().int().nullable() });
export type RemoteModel = z.infer<typeof RemoteModelSchema>;

/** The result of a configuration-time check. */
export const RemoteCheckSchema = z.object({
  ok: z.boolean(),
  /** What went wrong, in words a person can act on; null when ok. */
  error: z.string().nullable(),
  /** The base URL the check settled on (a bare host gains /v1). */
  baseUrl: z.string(),
  models: z.array(RemoteModelSchema),
  /** The configured model's context length as the server reports it. */
  maxContext: z.number().int().nullable(),
});
export type RemoteCheck = z.infer<typeof RemoteCheckSchema>;

/** What the settings page sends to add or change a remote. An absent apiKey keeps the stored one. */
export const RemoteEndpointInputSchema = z.object({
  id: z.string().min(1).max(100).optional(),
  name: z.string().min(1).max(200),
  baseUrl: z.string().min(1).max(2000),
  apiKey: z.string().max(4096).optional(),
  model: z.string().min(1).max(500),
  capabilities: ProviderCapabilitiesSchema.partial().optional(),
});
export type RemoteEndpointInput = z.infer<typeof RemoteEndpointInputSchema>;

/** A conversation's engine choice naming the local engine (else a remote's id, or null: the default). */
export const LOCAL_PROVIDER = 'local';

/** The remotes and which provider generates: `active` null is the local engine. */
export const ProvidersViewSchema = z.object({
  remotes: z.array(RemoteEndpointViewSchema),
  active: z.string().nullable(),
});
export type ProvidersView = z.infer<typeof ProvidersViewSchema>;
