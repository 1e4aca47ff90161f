// Activities of the `switchyard` task queue: fast, no agent process involved.
import type { SessionEvent } from '../contracts/events.js';
import { parseDuration } from '../config/duration.js';
import { resolveAgent, type Config } from '../config/schema.js';
import type { EventPublisher } from './event-publisher.js';
import type { TurnPolicy } from './turn-policy.js';

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
      const agent = resolveAgent(config(), agentId);
      if (!agent) {
        // The turn itself reports the unknown agent; these defaults only shape that attempt.
        return { now: Date.now(), busy: 'queue', turnTimeoutMs: 60_000, retry: { maximumAttempts: 1, initialIntervalMs: 1000, maximumIntervalMs: 1000 } };
      }
      return {
        now: Date.now(),
        busy: agent.busy,
        turnTimeoutMs: parseDuration(agent.turnTimeout),
        retry: {
          maximumAttempts: agent.retry.maxAttempts,
          initialIntervalMs: parseDuration(agent.retry.initialInterval),
          maximumIntervalMs: parseDuration(agent.retry.maximumInterval),
        },
      };
    },
    async currentTime(): Promise<number> {
      return Date.now();
    },
  };
}

export type LightActivities = ReturnType<typeof createLightActivities>;
export type LocalActivities = ReturnType<typeof createLocalActivities>;
