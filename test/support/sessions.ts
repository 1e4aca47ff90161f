// Helpers for tests that drive sessions and read what happened.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DurableSessionEvent, SessionEvent } from '../../contracts/events.js';
import type { TurnOutcome } from '../../api/session-service.js';
import { postJson, type TestGateway } from './gateway.js';

export async function sendMessage(gateway: TestGateway, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await postJson(`${gateway.url}/hooks/agent`, body, headers);
  assert.equal(res.status, body.mode === 'sync' ? 200 : 202, `unexpected answer ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as { accepted: boolean; duplicate: boolean; sessionKey: string; workflowId: string; messageId: string };
}

export async function outcomeOf(gateway: TestGateway, sessionKey: string, messageId: string): Promise<TurnOutcome> {
  const outcome = await gateway.api.sessions.waitForOutcome(sessionKey, messageId, 180_000);
  assert.ok(outcome, `no outcome for message ${messageId} in ${sessionKey}`);
  return outcome;
}

export async function durableEvents(gateway: TestGateway, sessionKey: string): Promise<DurableSessionEvent[]> {
  const events: DurableSessionEvent[] = [];
  for (let afterSeq = 0; ; ) {
    const page = await gateway.api.sessions.events(sessionKey, { afterSeq, limit: 1000 });
    events.push(...page.events);
    if (page.events.length === 0 || page.events.at(-1)!.seq >= page.lastSeq) return events;
    afterSeq = page.events.at(-1)!.seq;
  }
}

/** Polls until `check` returns a value; fails with `what` if it never does. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, bound = 120_000): Promise<T> {
  const until = Date.now() + bound;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch {
      // not yet
    }
    if (Date.now() > until) assert.fail(`gave up waiting for: ${what}`);
    await sleep(100);
  }
}

/** Live events of one session, as the API's hub sees them. */
export function recordLiveEvents(gateway: TestGateway, sessionKey: string): { events: SessionEvent[]; stop: () => void } {
  const events: SessionEvent[] = [];
  const stop = gateway.api.hub.subscribe(sessionKey, (event) => events.push(event));
  return { events, stop };
}

/** Pids of processes whose command line contains `needle` (e.g. a Claude session id). */
export function processesMatching(needle: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', '--', needle], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number).filter((pid) => pid !== process.pid);
  } catch {
    return [];
  }
}
