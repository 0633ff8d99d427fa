// provider-service.ts — the remote engines the user added and which provider generates. A remote
// is saved only after its configuration check passes (GET /v1/models with the key), so a wrong URL
// or key is said at configuration time, not in the middle of a chat. Publishes 'providers' events.
import { randomUUID } from 'node:crypto';
import { ContractError } from '../../common/contract.ts';
import {
  DEFAULT_REMOTE_CAPABILITIES, LOCAL_PROVIDER, type ProvidersView, type RemoteCheck, type RemoteEndpoint, type RemoteEndpointInput,
  type RemoteEndpointView,
} from '../../common/providers.ts';
import { checkRemote } from '../providers/check-remote.ts';
import { OpenAiRemoteProvider } from '../providers/openai-remote.ts';
import type { RemoteStore } from '../store/remote-store.ts';
import type { EventBus } from './events.ts';

export function remoteView(r: RemoteEndpoint): RemoteEndpointView {
  const { apiKey, ...rest } = r;
  return { ...rest, hasKey: apiKey.length > 0 };
}

export class ProviderService {
  constructor(private readonly store: RemoteStore, private readonly bus: EventBus) {}

  view(): ProvidersView {
    return { remotes: this.store.list().map(remoteView), active: this.store.active() };
  }

  private publish(): ProvidersView {
    const v = this.view();
    this.bus.emit('providers', v);
    return v;
  }

  /** The remote provider new generations use by default, or null for the local engine. */
  activeRemote(): OpenAiRemoteProvider | null {
    const id = this.store.active();
    const r = id ? this.store.get(id) : null;
    return r ? new OpenAiRemoteProvider(r) : null;
  }

  /** The provider for a conversation's choice: LOCAL_PROVIDER the local engine, a remote's id that
   *  remote, null (or a remote since removed) the default. */
  providerFor(choice: string | null): OpenAiRemoteProvider | null {
    if (choice === LOCAL_PROVIDER) return null;
    const r = choice ? this.store.get(choice) : null;
    return r ? new OpenAiRemoteProvider(r) : this.activeRemote();
  }

  /** Checks a conversation's choice before it is stored. */
  checkChoice(choice: string | null): string | null {
    if (choice !== null && choice !== LOCAL_PROVIDER && !this.store.get(choice)) throw new ContractError('not_found', `no remote engine ${choice}`);
    return choice;
  }

  /** A remote by id (the gateway routes to it by its model id). */
  remote(id: string): RemoteEndpoint | null { return this.store.get(id); }
  remotes(): RemoteEndpoint[] { return this.store.list(); }

  private keyFor(input: RemoteEndpointInput): string {
    if (input.apiKey !== undefined) return input.apiKey;
    return (input.id ? this.store.get(input.id)?.apiKey : undefined) ?? '';
  }

  check(input: RemoteEndpointInput): Promise<RemoteCheck> {
    return checkRemote({ baseUrl: input.baseUrl, apiKey: this.keyFor(input), model: input.model });
  }

  async save(input: RemoteEndpointInput): Promise<RemoteEndpointView> {
    const existing = input.id ? this.store.get(input.id) : null;
    if (input.id && !existing) throw new ContractError('not_found', `no remote engine ${input.id}`);
    const check = await this.check(input);
    if (!check.ok) throw new ContractError('bad_request', check.error ?? 'the remote did not pass its check');
    const caps = { ...DEFAULT_REMOTE_CAPABILITIES, ...existing?.capabilities, ...input.capabilities };
    // The server's own context length wins over a guess; a user's explicit value wins over both.
    if (input.capabilities?.maxContext === undefined && check.maxContext !== null) caps.maxContext = check.maxContext;
    const endpoint: RemoteEndpoint = {
      id: existing?.id ?? randomUUID(), name: input.name.trim(), baseUrl: check.baseUrl, apiKey: this.keyFor(input),
      model: input.model.trim(), capabilities: caps,
    };
    this.store.put(endpoint);
    this.publish();
    return remoteView(endpoint);
  }

  delete(id: string): boolean {
    const deleted = this.store.delete(id);
    if (deleted) this.publish();
    return deleted;
  }

  select(id: string | null): ProvidersView {
    if (id !== null && !this.store.get(id)) throw new ContractError('not_found', `no remote engine ${id}`);
    this.store.setActive(id);
    return this.publish();
  }
}
