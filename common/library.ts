// library.ts — the model library's shapes, shared by the core and the renderer (the Models page):
// a hub search, a repository's files and variants with the fit plan for this machine, the
// downloads the core runs (state kept in its database), and the models on disk.
import { z } from 'zod';

export const RepoId = z.string().min(3).max(200).regex(/^[\w.-]+\/[\w.-]+$/, 'OWNER/NAME');
export const Revision = z.string().min(1).max(200).regex(/^[\w./-]+$/, 'a branch, tag or commit');

export const HubHitSchema = z.object({
  repo: z.string(),
  downloads: z.number().min(0),
  likes: z.number().min(0),
  gated: z.boolean(),
  /** A checkpoint the library knows (catalog.ts): its name and summary. */
  catalogName: z.string().nullable(),
  summary: z.string().nullable(),
});
export type HubHit = z.infer<typeof HubHitSchema>;

export const FitPlanViewSchema = z.object({
  fits: z.boolean(),
  context: z.number().int().min(0),
  checkpointBytes: z.number().min(0),      // what the download weighs
  gpuResidentBytes: z.number().min(0),
  hotExperts: z.number().int().min(0),
  totalExperts: z.number().int().min(0),
  cpuExpertBytes: z.number().min(0),
  ramNeededBytes: z.number().min(0),
  kvBytes: z.number().min(0),
  expectedDecodeTokS: z.number().min(0),
  notes: z.array(z.string()),
  machine: z.object({
    gpuMemBytes: z.number().min(0), ramBytes: z.number().min(0), cpuBandwidthGBs: z.number().min(0),
    gpuBandwidthGBs: z.number().min(0), diskFreeBytes: z.number().min(0).nullable(),
  }),
});
export type FitPlanView = z.infer<typeof FitPlanViewSchema>;

export const RepoViewSchema = z.object({
  repo: z.string(),
  revision: z.string(),
  files: z.array(z.object({ path: z.string(), size: z.number().min(0).nullable(), sha256: z.string().nullable() })),
  totalBytes: z.number().min(0),
  architecture: z.string(),
  quantization: z.string(),
  /** The checkpoints of the same family the library offers (K2.5, K2.6, K2-Thinking, 0905). */
  variants: z.array(z.object({ repo: z.string(), name: z.string(), summary: z.string() })),
  plan: FitPlanViewSchema.nullable(),
  planError: z.string().nullable(),        // why no plan (a config the planner cannot read)
  /** Block-FP8 only: offered with conversion to INT4 after the download (kk_convert). */
  convertAfterDownload: z.boolean(),
});
export type RepoView = z.infer<typeof RepoViewSchema>;

export const DownloadStateSchema = z.enum(['queued', 'running', 'paused', 'done', 'error', 'cancelled']);
export type DownloadState = z.infer<typeof DownloadStateSchema>;

export const DownloadViewSchema = z.object({
  id: z.string(),
  repo: z.string(),
  revision: z.string(),
  state: DownloadStateSchema,
  doneBytes: z.number().min(0),
  totalBytes: z.number().min(0),           // 0 until the file list is known
  bytesPerSecond: z.number().min(0),       // over the last few seconds while running
  etaSeconds: z.number().min(0).nullable(),
  dir: z.string().nullable(),              // the snapshot a load opens, once known
  error: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type DownloadView = z.infer<typeof DownloadViewSchema>;

export const VerifyResultSchema = z.object({
  ok: z.boolean(),
  checked: z.number().int().min(0),
  /** Files whose bytes no longer match their sha256: removed, so a resume fetches them again. */
  damaged: z.array(z.string()),
});
export type VerifyResult = z.infer<typeof VerifyResultSchema>;

export const LibraryModelSchema = z.object({
  dir: z.string(),
  repo: z.string().nullable(),
  commit: z.string().nullable(),
  refs: z.array(z.string()),
  source: z.enum(['hub-cache', 'folder']),
  architecture: z.string(),
  quantization: z.string(),
  sizeOnDiskBytes: z.number().min(0),
  complete: z.boolean(),
  missing: z.array(z.string()),
  loaded: z.boolean(),
});
export type LibraryModelView = z.infer<typeof LibraryModelSchema>;

export const LibraryViewSchema = z.object({
  cacheDir: z.string(),                    // the hub cache downloads go to
  folders: z.array(z.string()),            // folders the user added
  models: z.array(LibraryModelSchema),
  endpoint: z.string(),                    // the hub searched and downloaded from
  tokenSet: z.boolean(),                   // a Hugging Face token is set (it never leaves the core)
});
export type LibraryView = z.infer<typeof LibraryViewSchema>;

/** A block-FP8 model being converted to INT4 (kk_convert), for the Models page's progress. */
export const ConversionEventSchema = z.object({
  source: z.string(),                      // the FP8 model's folder
  out: z.string(),                         // where the INT4 copy goes
  stage: z.string(),
  fraction: z.number().min(0).max(1),
  state: z.enum(['running', 'done', 'error']),
  error: z.string().nullable(),
});
export type ConversionEvent = z.infer<typeof ConversionEventSchema>;
