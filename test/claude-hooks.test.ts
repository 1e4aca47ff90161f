// Claude hooks end to end: real Temporal, the real `claude` CLI posting its `http` hooks to
// the API's POST /internal/hooks, the suite's fake Messages API, a real WebSocket subscriber.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RpcClient, type EventStream, type SessionEventMessage } from '../client/rpc-client.js';
import { mintHookToken } from '../claude-hooks/hook-token.js';
import type { ToolAuditEntry } from '../contracts/session.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { INTERNAL_TOKEN, postJson, startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { durableEvents, eventually, outcomeOf, recordLiveEvents, sendMessage } from './support/sessions.js';

let fake: FakeAnthropic;
let gateway: TestGateway;
let rpc: RpcClient;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    config: {
      agentDefaults: { allowedTools: ['Bash'], hookEvents: ['PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'Notification', 'Stop'] },
      agents: {
        main: {},
        guarded: { toolPolicy: { deny: ['Bash(rm:*)'] } },
        limited: { toolPolicy: { deny: ['Bash(rm:*)'] }, maxTurns: 1 },
        owned: { settingsFile: 'agent-settings.json' },
      },
    },
  });
  rpc = await RpcClient.connect(gateway.rpcUrl);
});
after(async () => {
  await rpc?.close();
  await gateway?.close();
  await fake?.close();
});

const newSession = (agent = 'main') => `agent:${agent}:${uniqueScope('hooks')}`;
const hooksUrl = () => `${gateway.url}/internal/hooks`;

/** Reads the stream until `stop` holds for an event; returns everything read. */
async function readUntil(stream: EventStream, stop: (event: SessionEventMessage) => boolean): Promise<SessionEventMessage[]> {
  const got: SessionEventMessage[] = [];
  const deadline = setTimeout(() => void stream.unsubscribe(), 180_000);
  try {
    for (;;) {
      const event = await stream.next();
      assert.ok(event, `the stream ended before the awaited event; got ${got.map((e) => e.type).join(', ')}`);
      got.push(event);
      if (stop(event)) return got;
    }
  } finally {
    clearTimeout(deadline);
  }
}

const hookNames = (events: SessionEventMessage[]) => events.filter((e) => e.type === 'turn.hook').map((e) => String(e.data.event));

describe('hook events', () => {
  test("a Bash tool call's hooks reach a subscriber in order: PreToolUse, PostToolUse, then Stop", async () => {
    const sessionKey = newSession();
    const stream = await rpc.subscribe({ sessionKey, afterSeq: 0 });
    fake.enqueueFor('hooks-bash-1', { kind: 'tool', name: 'Bash', input: { command: 'echo hooked-output-7', description: 'print' }, then: 'all done' });
    const sent = await sendMessage(gateway, { message: 'hooks-bash-1 please', sessionKey });
    const got = await readUntil(stream, (e) => e.type === 'turn.completed');
    await stream.unsubscribe();

    const names = hookNames(got);
    const pre = names.indexOf('PreToolUse');
    const post = names.indexOf('PostToolUse');
    const stop = names.indexOf('Stop');
    assert.ok(pre >= 0 && pre < post && post < stop, `hook order: ${names.join(', ')}`);
    const hooks = got.filter((e) => e.type === 'turn.hook');
    assert.ok(hooks.every((e) => e.turnId === sent.messageId && e.sessionKey === sessionKey && e.seq === undefined));
    const preEvent = hooks.find((e) => e.data.event === 'PreToolUse')!;
    const postEvent = hooks.find((e) => e.data.event === 'PostToolUse')!;
    assert.equal(preEvent.data.toolName, 'Bash');
    assert.deepEqual(preEvent.data.input, { command: 'echo hooked-output-7', description: 'print' });
    assert.equal(preEvent.data.decision, undefined);
    assert.equal(postEvent.data.toolUseId, preEvent.data.toolUseId);
    assert.match(JSON.stringify(postEvent.data.response), /hooked-output-7/);

    // The durable history holds the tool audit.
    const completed = (await durableEvents(gateway, sessionKey)).find((e) => e.type === 'turn.completed')!;
    assert.equal(completed.data.result, 'all done');
    const tools = completed.data.tools as ToolAuditEntry[];
    assert.deepEqual(
      tools.map((t) => [t.name, t.status, t.toolUseId]),
      [['Bash', 'ok', preEvent.data.toolUseId]],
    );
  });

  test('a turn without tools records no audit, and hooks of a turn without tools still arrive', async () => {
    const sessionKey = newSession();
    const live = recordLiveEvents(gateway, sessionKey);
    const sent = await sendMessage(gateway, { message: 'hooks-plain-1', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.completed');
    assert.equal(outcome.data.tools, undefined);
    await eventually('the Stop hook', () => live.events.some((e) => e.type === 'turn.hook' && e.data.event === 'Stop'));
    live.stop();
  });
});

describe('toolPolicy', () => {
  test('a denied tool is blocked, the model is told why, and the denial is in the durable history', async () => {
    const sessionKey = newSession('guarded');
    const victim = path.join(gateway.workDir, `victim-${uniqueScope('v')}.txt`);
    writeFileSync(victim, 'still here');
    const live = recordLiveEvents(gateway, sessionKey);
    fake.enqueueFor('hooks-deny-1', { kind: 'tool', name: 'Bash', input: { command: `rm -f ${victim}`, description: 'delete' }, then: 'could not delete' });
    const sent = await sendMessage(gateway, { message: 'hooks-deny-1 delete the file', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.completed');
    assert.ok(existsSync(victim), 'the denied command did not run');

    // The fake's follow-up request carries the denial as the tool result.
    const followUp = fake.mainRequests().filter((r) => r.prompt?.includes('hooks-deny-1') && r.toolResults).at(-1)!;
    assert.equal(followUp.toolResults![0]!.is_error, true);
    assert.match(followUp.toolResults![0]!.content, /tool policy.*agents\.guarded\.toolPolicy\.deny rule "Bash\(rm:\*\)"/);

    const completed = (await durableEvents(gateway, sessionKey)).find((e) => e.type === 'turn.completed')!;
    const tools = completed.data.tools as ToolAuditEntry[];
    assert.equal(tools.length, 1);
    assert.equal(tools[0]!.status, 'denied');
    assert.equal(tools[0]!.rule, 'Bash(rm:*)');
    assert.deepEqual(tools[0]!.input, { command: `rm -f ${victim}`, description: 'delete' });

    await eventually('the PreToolUse hook event', () => live.events.find((e) => e.type === 'turn.hook' && e.data.event === 'PreToolUse'));
    const pre = live.events.find((e) => e.type === 'turn.hook' && e.data.event === 'PreToolUse')!;
    assert.equal(pre.data.decision, 'deny');
    assert.equal(pre.data.rule, 'Bash(rm:*)');
    assert.ok(!live.events.some((e) => e.type === 'turn.hook' && e.data.event === 'PostToolUse'), 'a denied tool never ran');
    live.stop();
  });

  test('a turn that fails after a denial keeps the denial in turn.failed', async () => {
    const sessionKey = newSession('limited');
    fake.enqueueFor('hooks-deny-fail-1', { kind: 'tool', name: 'Bash', input: { command: 'rm -rf ./nothing', description: 'delete' }, then: 'never reached' });
    const sent = await sendMessage(gateway, { message: 'hooks-deny-fail-1', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.failed');
    assert.equal(outcome.data.errorType, 'AgentLimitReached');
    const tools = outcome.data.tools as ToolAuditEntry[];
    assert.deepEqual(
      tools.map((t) => [t.name, t.status, t.rule]),
      [['Bash', 'denied', 'Bash(rm:*)']],
    );
  });

  test('a call the policy does not match runs', async () => {
    const sessionKey = newSession('guarded');
    fake.enqueueFor('hooks-allow-1', { kind: 'tool', name: 'Bash', input: { command: 'echo allowed-9', description: 'print' }, then: 'ok' });
    const sent = await sendMessage(gateway, { message: 'hooks-allow-1', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.deepEqual((outcome.data.tools as ToolAuditEntry[]).map((t) => t.status), ['ok']);
    const followUp = fake.mainRequests().filter((r) => r.prompt?.includes('hooks-allow-1') && r.toolResults).at(-1)!;
    assert.match(followUp.toolResults![0]!.content, /allowed-9/);
  });
});

describe("the agent's own settingsFile", () => {
  test('its hooks still run beside the gateway hooks', async () => {
    const marker = path.join(gateway.workDir, `own-hook-${uniqueScope('m')}.txt`);
    writeFileSync(
      path.join(gateway.workDir, 'agent-settings.json'),
      JSON.stringify({ hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: `touch ${marker}` }] }] } }),
    );
    const sessionKey = newSession('owned');
    const live = recordLiveEvents(gateway, sessionKey);
    fake.enqueueFor('hooks-own-1', { kind: 'tool', name: 'Bash', input: { command: 'echo own', description: 'print' }, then: 'fine' });
    const sent = await sendMessage(gateway, { message: 'hooks-own-1', sessionKey });
    assert.equal((await outcomeOf(gateway, sessionKey, sent.messageId)).type, 'turn.completed');
    assert.ok(existsSync(marker), "the agent's own PreToolUse hook ran");
    await eventually('gateway hook events', () => live.events.some((e) => e.type === 'turn.hook' && e.data.event === 'PostToolUse'));
    live.stop();
  });
});

describe('POST /internal/hooks', () => {
  const body = { session_id: 'x', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'rm -rf /' }, tool_use_id: 'toolu_1' };
  const claims = (over: Partial<{ sessionKey: string; agentId: string; expiresAt: number }> = {}) => ({
    sessionKey: 'agent:guarded:http',
    turnId: 'turn-http',
    agentId: 'guarded',
    expiresAt: Date.now() + 600_000,
    ...over,
  });

  test('a valid token: the event is published, and PreToolUse answered by the policy', async () => {
    const live = recordLiveEvents(gateway, 'agent:guarded:http');
    const token = mintHookToken(INTERNAL_TOKEN, claims());
    const denied = await postJson(hooksUrl(), body, { authorization: `Bearer ${token}` });
    assert.equal(denied.status, 200);
    assert.equal(denied.body.hookSpecificOutput.permissionDecision, 'deny');
    assert.equal(denied.body.hookSpecificOutput.hookEventName, 'PreToolUse');
    const allowed = await postJson(hooksUrl(), { ...body, tool_input: { command: 'ls' } }, { authorization: `Bearer ${token}` });
    assert.equal(allowed.status, 204);
    assert.deepEqual(
      live.events.map((e) => [e.type, e.turnId, e.data.event, e.data.decision]),
      [
        ['turn.hook', 'turn-http', 'PreToolUse', 'deny'],
        ['turn.hook', 'turn-http', 'PreToolUse', undefined],
      ],
    );
    const bad = await postJson(hooksUrl(), { nothing: true }, { authorization: `Bearer ${token}` });
    assert.equal(bad.status, 400);
    live.stop();
  });

  test('a foreign, forged, expired or missing token is refused with 401 and publishes nothing', async () => {
    const live = recordLiveEvents(gateway, 'agent:guarded:http');
    const foreign = mintHookToken('some-other-gateway-token', claims());
    const [payload, mac] = mintHookToken(INTERNAL_TOKEN, claims()).split('.') as [string, string];
    const forged = `${Buffer.from(JSON.stringify(claims({ sessionKey: 'agent:main:main', agentId: 'main' }))).toString('base64url')}.${mac}`;
    const expired = mintHookToken(INTERNAL_TOKEN, claims({ expiresAt: Date.now() - 1000 }));
    const cases: [string, Record<string, string>, RegExp][] = [
      ['foreign', { authorization: `Bearer ${foreign}` }, /invalid hook token/],
      ['forged', { authorization: `Bearer ${forged}` }, /invalid hook token/],
      ['internal token itself', { authorization: `Bearer ${INTERNAL_TOKEN}` }, /invalid hook token/],
      ['expired', { authorization: `Bearer ${expired}` }, /expired/],
      ['missing', {}, /missing hook token/],
    ];
    for (const [what, headers, message] of cases) {
      const res = await postJson(hooksUrl(), body, headers);
      assert.equal(res.status, 401, what);
      assert.equal(res.body.error.code, 'unauthorized', what);
      assert.match(res.body.error.message, message, what);
    }
    assert.ok(payload);
    assert.equal(live.events.length, 0);
    live.stop();
  });
});
