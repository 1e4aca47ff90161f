// Shared by the fault tests: reading what each session did, and recording the figures that
// docs/reliability.md quotes (bench/results/ is git-ignored).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DurableSessionEvent } from '../../contracts/events.js';
import type { SessionService } from '../../api/session-service.js';

export async function allEvents(sessions: SessionService, sessionKey: string): Promise<DurableSessionEvent[]> {
  const events: DurableSessionEvent[] = [];
  for (let afterSeq = 0; ; ) {
    const page = await sessions.events(sessionKey, { afterSeq, limit: 1000 });
    events.push(...page.events);
    if (page.events.length === 0 || page.events.at(-1)!.seq >= page.lastSeq) return events;
    afterSeq = page.events.at(-1)!.seq;
  }
}

const TERMINAL = new Set(['turn.completed', 'turn.failed', 'turn.cancelled']);

/** Terminal events by message id (queue mode: one message per turn). */
export function outcomesByMessage(events: DurableSessionEvent[]): Map<string, DurableSessionEvent[]> {
  const byMessage = new Map<string, DurableSessionEvent[]>();
  for (const event of events) {
    if (!TERMINAL.has(event.type)) continue;
    for (const id of (event.data.messageIds as string[] | undefined) ?? [event.turnId ?? '']) {
      byMessage.set(id, [...(byMessage.get(id) ?? []), event]);
    }
  }
  return byMessage;
}

/**
 * Every accepted message of the session has exactly one outcome, a turn.completed whose
 * result is the fake's echo of its text; and it was queued exactly once.
 */
export function assertAnsweredExactlyOnce(sessionKey: string, events: DurableSessionEvent[], accepted: Map<string, string>): void {
  const outcomes = outcomesByMessage(events);
  const queued = new Map<string, number>();
  for (const event of events) if (event.type === 'turn.queued') queued.set(event.turnId ?? '', (queued.get(event.turnId ?? '') ?? 0) + 1);
  for (const [messageId, text] of accepted) {
    const found = outcomes.get(messageId) ?? [];
    assert.equal(found.length, 1, `${sessionKey} ${messageId} (${text}): ${found.length} outcomes: ${JSON.stringify(found.map((e) => [e.type, e.data.reason]))}`);
    assert.equal(found[0]!.type, 'turn.completed', `${sessionKey} ${messageId}: ${JSON.stringify(found[0]!.data)}`);
    assert.match(String(found[0]!.data.result), new RegExp(`${text}$`), `${sessionKey} ${messageId}: the answer belongs to its message`);
    assert.equal(queued.get(messageId), 1, `${sessionKey} ${messageId} queued once`);
  }
  const unexpected = [...outcomes.keys()].filter((id) => !accepted.has(id));
  assert.deepEqual(unexpected, [], `${sessionKey}: outcomes of messages nobody sent`);
}

/** Runs `work` over `items` with at most `limit` at once. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(runners);
  return results;
}

/** Prints the figures and writes them to bench/results/faults-<name>.json. */
export function recordFigures(name: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ test: name, at: new Date().toISOString(), ...figures });
  console.error(`faults: ${line}`);
  const dir = path.resolve(import.meta.dirname, '../../bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `faults-${name}.json`), `${line}\n`);
}

/** How many messages the load tests send: SWITCHYARD_FAULT_MESSAGES, else `fallback`. */
export function messageCount(fallback: number): number {
  const value = Number(process.env.SWITCHYARD_FAULT_MESSAGES);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}
