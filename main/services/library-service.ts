// library-service.ts — what the Models page asks the core about models that are not loaded: a
// hub search, a repository's files and variants with the fit plan for this machine (from its
// config.json, before anything is downloaded), and the library on disk (the hub cache plus the
// folders the user added). The hub endpoint is the hubEndpoint setting, else HF_ENDPOINT; the
// token is the one set here (kept in the database, never sent to the renderer), else HF_TOKEN.
import { basename, join } from 'node:path';
import type { FitPlanView, HubHit, LibraryView, RepoView } from '../../common/library.ts';
import { ContractError } from '../../common/contract.ts';
import { CATALOG, catalogEntry } from '../models/catalog.ts';
import { textModelConfig } from '../models/config.ts';
import { fitPlan, type Machine } from '../models/fit.ts';
import { fetchConfig, searchModels } from '../models/hub-client.ts';
import { listRemoteFiles } from '../models/hub-files.ts';
import { scanLibrary } from '../models/library.ts';
import { thisMachine } from '../models/machine.ts';
import { userModelsDir } from '../models/paths.ts';
import { sizesFromConfig, weightFormat } from '../models/sizes.ts';
import { convertToInt4 } from '../models/convert.ts';
import type { EventBus } from './events.ts';
import type { SettingsStore } from '../store/index.ts';
import { DEFAULT_CONTEXT_LENGTH } from './model-inspect.ts';
import { diskFree } from './starter-model.ts';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
const TOKEN_KEY = 'hubToken';
const FOLDERS_KEY = 'libraryFolders';

export class LibraryService {
  private machine: Machine | null = null;

  private readonly converting = new Set<string>();

  constructor(private readonly settings: SettingsStore, readonly cacheDir: string, private readonly loadedDir: () => string | null,
    private readonly bus?: EventBus) {}

  /**
   * Converts a complete block-FP8 model of the library to INT4 into the user's models folder
   * (listed by the library from then on) as ORG--NAME-int4.
   */
  async convert(dir: string): Promise<{ dir: string }> {
    const m = this.view().models.find((x) => x.dir === dir);
    if (!m) throw new ContractError('not_found', `${dir} is not a model in the library`);
    if (!m.complete) throw new ContractError('bad_request', `${dir} is not complete (missing ${m.missing.join(', ')}): finish its download first`);
    if (m.quantization !== 'fp8') throw new ContractError('bad_request', `${dir} is ${m.quantization}, not block-FP8: nothing to convert`);
    if (this.converting.has(dir)) throw new ContractError('busy', `${dir} is already being converted`);
    const out = join(userModelsDir(), `${m.repo ? m.repo.replace('/', '--') : basename(dir)}-int4`);
    const emit = (stage: string, fraction: number, state: 'running' | 'done' | 'error', error: string | null = null) =>
      this.bus?.emit('conversion', { source: dir, out, stage, fraction, state, error });
    this.converting.add(dir);
    let last = '';
    try {
      emit('start', 0, 'running');
      await convertToInt4(dir, out, (p) => {
        const key = `${p.stage}:${Math.floor(p.fraction * 20)}`;   // every 5 %
        if (key !== last) { last = key; emit(p.stage, p.fraction, 'running'); }
      });
      emit('done', 1, 'done');
      return { dir: out };
    } catch (e) {
      emit('error', 0, 'error', (e as Error).message);
      throw new ContractError('bad_request', (e as Error).message);
    } finally { this.converting.delete(dir); }
  }

  endpoint(): string {
    return (this.settings.get().hubEndpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB_ENDPOINT).replace(/\/$/, '');
  }

  token(): string | undefined {
    const t = this.settings.readState(TOKEN_KEY);
    return typeof t === 'string' && t ? t : process.env.HF_TOKEN || undefined;
  }

  setToken(token: string | null): LibraryView {
    this.settings.writeState(TOKEN_KEY, token);
    return this.view();
  }

  folders(): string[] {
    const f = this.settings.readState(FOLDERS_KEY);
    return Array.isArray(f) ? f.filter((x): x is string => typeof x === 'string') : [];
  }

  setFolders(folders: string[]): LibraryView {
    this.settings.writeState(FOLDERS_KEY, [...new Set(folders)]);
    return this.view();
  }

  view(): LibraryView {
    const loaded = this.loadedDir();
    const models = scanLibrary([this.cacheDir], [...this.folders(), userModelsDir()]).map((m) => ({ ...m, loaded: m.dir === loaded }));
    return { cacheDir: this.cacheDir, folders: this.folders(), models, endpoint: this.endpoint(), tokenSet: !!this.token() };
  }

  async search(query: string): Promise<HubHit[]> {
    let hits;
    try { hits = await searchModels(this.endpoint(), query.trim(), this.token()); } catch (e) {
      throw new ContractError('bad_request', `search on ${this.endpoint()} failed: ${(e as Error).message}`);
    }
    return hits.map((h) => {
      const c = catalogEntry(h.id);
      return { repo: h.id, downloads: h.downloads, likes: h.likes, gated: h.gated, catalogName: c?.name ?? null, summary: c?.summary ?? null };
    });
  }

  private here(): Machine {
    // Measured once per process: the RAM probe takes a moment and the machine does not change.
    this.machine ??= thisMachine();
    return { ...this.machine, diskFreeBytes: diskFree(this.cacheDir) ?? undefined };
  }

  async repo(repo: string, revision = 'main'): Promise<RepoView> {
    const access = { endpoint: this.endpoint(), repo, revision, token: this.token() };
    let files;
    try { files = await listRemoteFiles(access); } catch (e) { throw new ContractError('bad_request', (e as Error).message); }
    const entry = catalogEntry(repo);
    let plan: FitPlanView | null = null;
    let planError: string | null = null;
    let architecture = 'unknown';
    let quantization = 'unknown';
    try {
      const cfg = await fetchConfig(access);
      const tc = textModelConfig(cfg);
      architecture = tc.architecture;
      quantization = weightFormat(tc.quant);
      const m = this.here();
      const context = Math.min(this.settings.get().contextLength ?? DEFAULT_CONTEXT_LENGTH, Number(tc.text.max_position_embeddings) || DEFAULT_CONTEXT_LENGTH);
      const p = fitPlan(sizesFromConfig(cfg), m, context);
      if (tc.multimodal) p.notes.unshift(`${tc.architecture}: the text model is planned; images are not supported yet (the vision tower is skipped).`);
      plan = {
        fits: p.fits, context: p.context, checkpointBytes: p.checkpoint_bytes, gpuResidentBytes: p.gpu_resident_bytes,
        hotExperts: p.hot_experts, totalExperts: p.total_experts, cpuExpertBytes: p.cpu_expert_bytes, ramNeededBytes: p.ram_needed_bytes,
        kvBytes: p.kv_bytes, expectedDecodeTokS: p.expected_decode_tok_s, notes: p.notes,
        machine: { gpuMemBytes: m.gpuMemBytes, ramBytes: m.ramBytes, cpuBandwidthGBs: m.cpuBandwidthGBs, gpuBandwidthGBs: m.gpuBandwidthGBs, diskFreeBytes: m.diskFreeBytes ?? null },
      };
    } catch (e) { planError = (e as Error).message; }
    return {
      repo, revision,
      files: files.map((f) => ({ path: f.path, size: f.size ?? null, sha256: f.sha256 ?? null })),
      totalBytes: files.reduce((s, f) => s + (f.size ?? 0), 0),
      architecture, quantization,
      variants: CATALOG.map((c) => ({ repo: c.repo, name: c.name, summary: c.summary })),
      plan, planError, convertAfterDownload: entry?.convertAfterDownload ?? quantization === 'fp8',
    };
  }
}
