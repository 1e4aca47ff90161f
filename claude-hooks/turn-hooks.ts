// The worker's half of the hooks: per turn, mint a token and write the `--settings` file
// whose `http` hooks post to the API's POST /internal/hooks; remove it when the turn ends.
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { AgentConfig } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { TURN_FAILURE } from '../contracts/session.js';
import { ToolAudit } from './tool-audit.js';
import { parseToolRule } from './tool-policy.js';
import { mintHookToken } from './hook-token.js';
import { hookSettings, readAgentSettings, writeSettingsFile, type HookEvent } from './settings-file.js';

export interface HookEndpoint {
  /** POST /internal/hooks of the API, as the worker reaches it. */
  url: string;
  /** The internal token: the key the hook tokens are signed with. Never written anywhere. */
  internalToken: string;
}

/** A token outlives the longest turn by this much (a slow last hook, clock skew). */
const TOKEN_GRACE_MS = 5 * 60_000;

export interface TurnHooks {
  settingsFile: string;
  remove: () => Promise<void>;
}

export async function prepareTurnHooks(
  endpoint: HookEndpoint,
  agent: AgentConfig,
  turn: { sessionKey: string; turnId: string; agentId: string; turnTimeoutMs: number },
  baseDir: string,
  events: readonly HookEvent[],
  now = Date.now(),
): Promise<TurnHooks> {
  const token = mintHookToken(endpoint.internalToken, {
    sessionKey: turn.sessionKey,
    turnId: turn.turnId,
    agentId: turn.agentId,
    expiresAt: now + turn.turnTimeoutMs + TOKEN_GRACE_MS,
  });
  const own = agent.settingsFile ? await readAgentSettings(path.resolve(baseDir, agent.settingsFile)) : {};
  const { file, remove } = await writeSettingsFile(hookSettings({ url: endpoint.url, token }, own, events));
  return { settingsFile: file, remove };
}

export interface OpenTurnHooks {
  /** Absent when the agent listens to no hook event, or the worker has no hook endpoint (no internal token). */
  settingsFile?: string;
  audit: ToolAudit;
  close: () => Promise<void>;
}

/** What the turn activity needs around one CLI run: the settings file and the tool audit. */
export async function openTurnHooks(
  endpoint: HookEndpoint | undefined,
  agent: AgentConfig,
  request: { sessionKey: string; turnId: string; agentId: string },
  baseDir: string,
): Promise<OpenTurnHooks> {
  const audit = new ToolAudit(request.agentId, agent.toolPolicy.deny.map(parseToolRule));
  const events = eventsOf(agent);
  // No events, no settings file: the CLI starts measurably later with one (settings-file.ts).
  if (!endpoint || events.length === 0) return { audit, close: async () => undefined };
  let hooks: TurnHooks;
  try {
    hooks = await prepareTurnHooks(endpoint, agent, { ...request, turnTimeoutMs: parseDuration(agent.turnTimeout) }, baseDir, events);
  } catch (err) {
    throw ApplicationFailure.create({ type: TURN_FAILURE.config, nonRetryable: true, message: `agents.${request.agentId}.settingsFile: ${(err as Error).message}` });
  }
  return { settingsFile: hooks.settingsFile, audit, close: hooks.remove };
}

/** The agent's hook events; PreToolUse always when it has deny rules, since they are enforced there. */
function eventsOf(agent: AgentConfig): HookEvent[] {
  const events = new Set<HookEvent>(agent.hookEvents);
  if (agent.toolPolicy.deny.length > 0) events.add('PreToolUse');
  return [...events];
}
