// tool-policy.ts — standing approvals for tool calls (see main/services/tools/approval.ts): the
// shape shared by the broker, the store that keeps them and the settings that list them.

export interface Policy {
  scope: 'tool' | 'server';
  server: string;
  /** The tool's name; null for a server-wide policy. */
  tool: string | null;
  /** Applies only while the demo model is loaded (the default demo policy). */
  demoModelOnly?: boolean;
  createdAt: number;
}

export interface PolicyStore { load(): Policy[]; save(policies: Policy[]): void }

/** Rounds of tool calls one turn runs before the agent loop stops, unless the user sets it. */
export const DEFAULT_TOOL_STEPS = 100;
/** The highest step limit a user may set (long agentic runs, bounded). */
export const MAX_TOOL_STEPS = 300;

/** The server name the demo model's built-in demo tools are grouped under. */
export const DEMO_SERVER = 'demo';

/**
 * The one default: the demo model's demo tools (deterministic weather, calculator, clock — no
 * files, no network) are allowed while the demo model is loaded, so a first run shows it working.
 */
export const DEFAULT_POLICIES: Policy[] = [{ scope: 'server', server: DEMO_SERVER, tool: null, demoModelOnly: true, createdAt: 0 }];
