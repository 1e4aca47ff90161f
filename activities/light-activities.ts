// Activities of the `switchyard` task queue: fast, no agent process involved.
import type { SessionEvent } from '../contracts/events.js';
import { agentPolicy } from '../config/agent-policy.js';
import type { Config } from '../config/schema.js';
import type { AgentPolicy } from '../contracts/session.js';
import type { EventPublisher } from './event-publisher.js';
import type { TurnPolicy } from './turn-policy.js';

export const UNKNOWN_AGENT_POLICY: AgentPolicy = {
  busy: 'queue',
  turnTimeoutMs: 60_000,
  retry: { maximumAttempts: 1, initialIntervalMs: 1000, maximumIntervalMs: 1000 },
};

export interface LightActivityDeps {
  config: () => Config;
  publisher: EventPublisher;
}

export function createLightActivities({ publisher }: LightActivityDeps) {
  return {
    async publishEvents(events: SessionEvent[]): Promise<void> {
      await publisher.deliver(events);
    },
  };
}

/** Local activities: they run inside the workflow task, and their results are recorded for replay. */
export function createLocalActivities({ config }: LightActivityDeps) {
  return {
    async beginTurn(agentId: string): Promise<TurnPolicy> {
      // An unknown agent: the turn itself reports it; these defaults only shape that attempt.
      const policy = agentPolicy(config(), agentId) ?? UNKNOWN_AGENT_POLICY;
      return { ...policy, now: Date.now() };
    },
    async currentTime(): Promise<number> {
      return Date.now();
    },
  };
}

export type LightActivities = ReturnType<typeof createLightActivities>;
export type LocalActivities = ReturnType<typeof createLocalActivities>;
