import { describe, expect, it } from 'vitest';
import {
  events, requests, requestNames, isRequestName, GenerationEventSchema, EngineStatusSchema,
  SettingsPatchSchema, WireRequestSchema,
} from '../../../common/contract.ts';

describe('contract', () => {
  it('declares every verb the app needs', () => {
    for (const n of ['listConversations', 'searchConversations', 'getConversation', 'createConversation',
      'renameConversation', 'deleteConversation', 'exportConversation', 'importConversation', 'sendMessage',
      'stopGeneration', 'regenerate', 'editAndBranch', 'getSettings', 'updateSettings', 'getModelStatus',
      'listLocalModels', 'inspectModel', 'loadModel', 'restartEngine', 'listRemotes', 'checkRemote', 'saveRemote',
      'deleteRemote', 'selectProvider', 'searchHub', 'getRepo', 'getLibrary', 'setLibraryFolders', 'setHubToken', 'listDownloads',
      'startDownload', 'pauseDownload', 'resumeDownload', 'cancelDownload', 'verifyDownload', 'deleteDownload']) {
      expect(isRequestName(n), n).toBe(true);
    }
    expect(isRequestName('constructor')).toBe(false);
    expect(isRequestName('toString')).toBe(false);
    expect(requestNames.length).toBe(Object.keys(requests).length);
    expect(Object.keys(events).sort()).toEqual(['approval', 'conversation', 'conversion', 'downloads', 'engineStatus', 'generation', 'mcpServers', 'providers']);
  });

  it('accepts well-formed requests', () => {
    expect(requests.sendMessage.params.safeParse({ conversationId: 'c1', content: 'hi' }).success).toBe(true);
    expect(requests.sendMessage.params.safeParse({
      conversationId: 'c1', content: 'hi', options: { tools: ['get_weather'], sampling: { temperature: 0, maxTokens: 10 } },
    }).success).toBe(true);
    expect(requests.exportConversation.params.safeParse({ conversationId: 'c', format: 'md' }).success).toBe(true);
    expect(requests.listConversations.params.safeParse({}).success).toBe(true);
  });

  it('rejects malformed requests', () => {
    expect(requests.sendMessage.params.safeParse({ conversationId: 'c1' }).success).toBe(false);
    expect(requests.sendMessage.params.safeParse({ conversationId: '', content: 'x' }).success).toBe(false);
    expect(requests.sendMessage.params.safeParse({ conversationId: 'c', content: '' }).success).toBe(false);
    expect(requests.sendMessage.params.safeParse({ conversationId: 'c', content: 'x', options: { sampling: { temperature: -1 } } }).success).toBe(false);
    expect(requests.exportConversation.params.safeParse({ conversationId: 'c', format: 'pdf' }).success).toBe(false);
    expect(requests.renameConversation.params.safeParse({ conversationId: 'c', title: '' }).success).toBe(false);
    expect(SettingsPatchSchema.safeParse({ threads: -3 }).success).toBe(false);
    expect(SettingsPatchSchema.safeParse({ sampling: { topP: 0 } }).success).toBe(false);
    expect(WireRequestSchema.safeParse({ kind: 'request', id: 'x', method: 'a' }).success).toBe(false);
  });

  it('validates events', () => {
    expect(GenerationEventSchema.safeParse({ type: 'content', conversationId: 'c', messageId: 'm', delta: 'x' }).success).toBe(true);
    expect(GenerationEventSchema.safeParse({ type: 'content', conversationId: 'c', messageId: 'm' }).success).toBe(false);
    expect(GenerationEventSchema.safeParse({ type: 'bogus', conversationId: 'c', messageId: 'm' }).success).toBe(false);
    expect(GenerationEventSchema.safeParse({
      type: 'finish', conversationId: 'c', messageId: 'm', reason: 'stop', error: null, continuedBy: null,
      timings: { promptTokens: 3, completionTokens: 2, promptMs: 1, ttftMs: 2, decodeMs: 3, promptTokensPerSecond: 1, tokensPerSecond: 5, contextUsed: 5, contextLength: 4096 },
      message: {
        id: 'm', conversationId: 'c', parentId: null, role: 'assistant', content: 'hi', reasoning: '', reasoningMs: null, reasoningTokens: null,
        toolCalls: [], toolCallId: null, toolName: null, status: 'complete', finishReason: 'stop', error: null, timings: null, model: null,
        sampling: null, createdAt: 1, siblingIds: ['m'],
      },
    }).success).toBe(true);
    // A finish without the stored message is not one the renderer can show.
    expect(GenerationEventSchema.safeParse({ type: 'finish', conversationId: 'c', messageId: 'm', reason: 'stop', error: null, continuedBy: null, timings: null }).success).toBe(false);
    expect(EngineStatusSchema.safeParse({ state: 'crashed', model: null, progress: null, error: 'signal SIGKILL', pid: null, restarts: 0, backend: null, backendWhy: null }).success).toBe(true);
    expect(EngineStatusSchema.safeParse({ state: 'exploded', model: null, progress: null, error: null, pid: null, restarts: 0, backend: null, backendWhy: null }).success).toBe(false);
  });
});
