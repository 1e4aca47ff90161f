// An agent's turn policy as the session workflow uses it: durations in milliseconds, read
// from the merged agent config. The API stamps it on each message it accepts.
import type { AgentPolicy } from '../contracts/session.js';
import { parseDuration } from './duration.js';
import { resolveAgent, type Config } from './schema.js';

export function agentPolicy(config: Config, agentId: string): AgentPolicy | undefined {
  const agent = resolveAgent(config, agentId);
  if (!agent) return undefined;
  return {
    busy: agent.busy,
    turnTimeoutMs: parseDuration(agent.turnTimeout),
    retry: {
      maximumAttempts: agent.retry.maxAttempts,
      initialIntervalMs: parseDuration(agent.retry.initialInterval),
      maximumIntervalMs: parseDuration(agent.retry.maximumInterval),
    },
  };
}
