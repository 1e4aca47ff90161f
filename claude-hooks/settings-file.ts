// The per-turn `--settings` file: the agent's own settings file (if any) with the gateway's
// `http` hooks added. The CLI keeps only the LAST `--settings` it is given (measured with
// 2.1.197), so the two must be merged into one file rather than passed side by side.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The events the gateway can listen to. SessionStart is left out: its `http` hook was never called in `-p` mode. */
export const HOOK_EVENTS = ['PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'Notification', 'UserPromptSubmit', 'Stop', 'SubagentStop', 'PreCompact', 'SessionEnd'] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];
/**
 * None: a turn gets the gateway's hooks when its agent asks for events or has deny rules. Any
 * settings the CLI loads, even an empty `--settings` file or a user settings.json with only
 * `env`, make it start 110 to 150 ms later (measured with 2.1.197: 1455 ms bare, 1587 ms with an
 * empty --settings), and on top of that it waits for each http hook that fires, 45 to 90 ms
 * apiece. The tool audit and `turn.tool` come from the CLI's stream-json and need no hook.
 */
export const DEFAULT_HOOK_EVENTS: readonly HookEvent[] = [];
/** What `hookEvents` usually holds when an agent wants to hear its tools: the events that fire only when the agent acts. */
export const TOOL_HOOK_EVENTS: readonly HookEvent[] = ['PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'Notification', 'PreCompact'];
/** Events whose matcher is a tool name. */
const TOOL_EVENTS = new Set<string>(['PreToolUse', 'PostToolUse', 'PostToolUseFailure']);
/** Seconds the CLI waits for an answer; then it carries on as if there were no hook. */
export const HOOK_TIMEOUT_SECONDS = 10;

export interface HookTarget {
  url: string;
  token: string;
}

type Settings = Record<string, unknown> & { hooks?: Record<string, unknown[]> };

/** The merged settings: the agent's hook groups first, the gateway's after them. */
export function hookSettings(target: HookTarget, agentSettings: Settings = {}, events: readonly HookEvent[] = HOOK_EVENTS): Settings {
  const hooks: Record<string, unknown[]> = { ...(agentSettings.hooks ?? {}) };
  for (const event of events) {
    const group = {
      ...(TOOL_EVENTS.has(event) ? { matcher: '*' } : {}),
      hooks: [{ type: 'http', url: target.url, headers: { Authorization: `Bearer ${target.token}` }, timeout: HOOK_TIMEOUT_SECONDS }],
    };
    hooks[event] = [...(Array.isArray(hooks[event]) ? hooks[event] : []), group];
  }
  return { ...agentSettings, hooks };
}

export async function readAgentSettings(file: string): Promise<Settings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the agent's settingsFile ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`the agent's settingsFile ${file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`the agent's settingsFile ${file} must hold a JSON object`);
  const settings = parsed as Settings;
  if (settings.hooks !== undefined && (typeof settings.hooks !== 'object' || settings.hooks === null || Array.isArray(settings.hooks))) {
    throw new Error(`the agent's settingsFile ${file}: "hooks" must be an object`);
  }
  return settings;
}

/** Writes the file readable by its owner only, in a fresh private directory; `remove` deletes both. */
export async function writeSettingsFile(settings: Settings): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'switchyard-turn-'));
  const file = path.join(dir, 'settings.json');
  await writeFile(file, JSON.stringify(settings, null, 2), { mode: 0o600 });
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}
