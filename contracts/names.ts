// Stable names from DESIGN.md. Tests, operators and outside clients depend on them.
export const WORKFLOW_TASK_QUEUE = 'switchyard';
export const AGENT_TASK_QUEUE = 'switchyard-agents';

export const SEARCH_ATTRIBUTES = {
  agent: 'SwitchyardAgent',
  sessionKey: 'SwitchyardSessionKey',
  channel: 'SwitchyardChannel',
  state: 'SwitchyardState',
} as const;

export const DEFAULT_SCOPE = 'main';
const SESSION_KEY = /^agent:([A-Za-z0-9][A-Za-z0-9_.-]*):(.+)$/;

export function sessionKeyOf(agentId: string, scope: string = DEFAULT_SCOPE): string {
  return `agent:${agentId}:${scope}`;
}

/** The session of one peer (a user, a chat, a thread) on a channel: `agent:<agentId>:<channel>:<peer>`. */
export function channelSessionKey(agentId: string, channel: string, peer: string): string {
  return sessionKeyOf(agentId, `${channel}:${peer}`);
}

export function parseSessionKey(sessionKey: string): { agentId: string; scope: string } | undefined {
  const match = SESSION_KEY.exec(sessionKey);
  return match ? { agentId: match[1]!, scope: match[2]! } : undefined;
}

export function sessionWorkflowId(sessionKey: string): string {
  return `session:${sessionKey}`;
}

export function scheduleId(name: string): string {
  return `cron:${name}`;
}
