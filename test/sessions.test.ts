// The session workflow and the turn activity, end to end: real Temporal, the real `claude`
// CLI, the suite's fake Messages API.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { postJson, startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { durableEvents, eventually, outcomeOf, processesMatching, recordLiveEvents, sendMessage } from './support/sessions.js';

let fake: FakeAnthropic;
let gateway: TestGateway;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    config: {
      agentDefaults: { allowedTools: ['Bash'] },
      agents: {
        main: {},
        collector: { busy: 'collect' },
        interrupter: { busy: 'interrupt' },
        impatient: { turnTimeout: '4s' },
        nobinary: { command: '/nonexistent/claude' },
      },
    },
  });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

const newSession = (agent = 'main') => `agent:${agent}:${uniqueScope('s')}`;
const mainCallsWith = (text: string) => fake.mainRequests().filter((r) => r.prompt?.includes(text));

describe('turns', () => {
  test('a first turn records queued, started and completed, and streams deltas live', async () => {
    const sessionKey = newSession();
    const live = recordLiveEvents(gateway, sessionKey);
    fake.enqueueFor('first-turn-1', { kind: 'text', text: 'Hello from the agent, in several chunks.', chunks: 4 });
    const sent = await sendMessage(gateway, { message: 'first-turn-1', sessionKey });
    assert.equal(sent.accepted, true);
    assert.equal(sent.duplicate, false);
    assert.equal(sent.workflowId, `session:${sessionKey}`);

    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.completed');
    assert.equal(outcome.data.result, 'Hello from the agent, in several chunks.');
    assert.ok((outcome.data.costUsd as number) >= 0);

    const events = await durableEvents(gateway, sessionKey);
    assert.deepEqual(events.map((e) => e.type), ['turn.queued', 'turn.started', 'turn.completed']);
    assert.deepEqual(events.map((e) => e.seq), [1, 2, 3]);
    assert.ok(events.every((e) => e.turnId === sent.messageId && e.ts > 0));

    await eventually('live events', () => live.events.some((e) => e.type === 'turn.completed'));
    const deltas = live.events.filter((e) => e.type === 'turn.delta').map((e) => e.data.text).join('');
    assert.equal(deltas, 'Hello from the agent, in several chunks.');
    live.stop();

    const state = await gateway.api.sessions.state(sessionKey);
    assert.equal(state.status, 'idle');
    assert.equal(state.turnCount, 1);
    assert.equal(state.lastSeq, 3);
    assert.ok(state.claudeSessionId);
  });

  test('a second turn resumes the Claude session: the API sees the first exchange', async () => {
    const sessionKey = newSession();
    const first = await sendMessage(gateway, { message: 'remember the word PLUM', sessionKey });
    await outcomeOf(gateway, sessionKey, first.messageId);
    const second = await sendMessage(gateway, { message: 'which word did I ask you to remember?', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, second.messageId);
    assert.equal(outcome.type, 'turn.completed');

    const call = mainCallsWith('which word did I ask you to remember?').at(-1)!;
    const history = JSON.stringify(call.body.messages);
    assert.match(history, /remember the word PLUM/);
    assert.match(history, /echo: remember the word PLUM/);
    const started = (await durableEvents(gateway, sessionKey)).filter((e) => e.type === 'turn.started');
    assert.deepEqual(started.map((e) => e.data.resumed), [false, true]);
    assert.equal(started[0]!.data.claudeSessionId, started[1]!.data.claudeSessionId);
  });

  test('a tool call runs, and its call and result are published live', async () => {
    const sessionKey = newSession();
    const live = recordLiveEvents(gateway, sessionKey);
    fake.enqueueFor('use-a-tool', { kind: 'tool', name: 'Bash', input: { command: 'echo tool-output-42', description: 'print' }, then: 'the tool said 42' });
    const sent = await sendMessage(gateway, { message: 'use-a-tool please', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.data.result, 'the tool said 42');
    await eventually('tool events', () => live.events.filter((e) => e.type === 'turn.tool').length >= 2);
    const tools = live.events.filter((e) => e.type === 'turn.tool');
    assert.equal(tools[0]!.data.phase, 'call');
    assert.equal(tools[0]!.data.name, 'Bash');
    assert.equal(tools[1]!.data.phase, 'result');
    assert.match(String(tools[1]!.data.output), /tool-output-42/);
    live.stop();
  });

  test('a message that starts with "/" reaches the model as text, not as a slash command', async () => {
    const sessionKey = newSession();
    const sent = await sendMessage(gateway, { message: '/ask what is up', sessionKey });
    assert.equal((await outcomeOf(gateway, sessionKey, sent.messageId)).data.result, 'echo: /ask what is up');
  });

  test('a duplicate idempotency key is acknowledged and never run twice', async () => {
    const sessionKey = newSession();
    const first = await sendMessage(gateway, { message: 'dedupe-me', sessionKey, idempotencyKey: 'delivery-1' });
    const again = await sendMessage(gateway, { message: 'dedupe-me', sessionKey, idempotencyKey: 'delivery-1' });
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal(again.messageId, first.messageId);
    await outcomeOf(gateway, sessionKey, first.messageId);
    const viaHeader = await sendMessage(gateway, { message: 'dedupe-me', sessionKey }, { 'idempotency-key': 'delivery-1' });
    assert.equal(viaHeader.duplicate, true);
    const events = await durableEvents(gateway, sessionKey);
    assert.equal(events.filter((e) => e.type === 'turn.queued').length, 1);
    assert.equal(events.filter((e) => e.type === 'turn.completed').length, 1);
  });
});

describe('busy sessions', () => {
  test('queue: three messages sent during a turn are answered one by one, in order', async () => {
    const sessionKey = newSession();
    fake.enqueueFor('queue-0', { kind: 'text', text: 'slow answer', delayMs: 1500 });
    const first = await sendMessage(gateway, { message: 'queue-0', sessionKey });
    await eventually('first turn running', async () => (await gateway.api.sessions.state(sessionKey)).status === 'running');
    const rest = [];
    for (const n of [1, 2, 3]) rest.push(await sendMessage(gateway, { message: `queue-${n}`, sessionKey }));
    const outcomes = [];
    for (const sent of [first, ...rest]) outcomes.push(await outcomeOf(gateway, sessionKey, sent.messageId));
    assert.deepEqual(outcomes.map((o) => o.data.result), ['slow answer', 'echo: queue-1', 'echo: queue-2', 'echo: queue-3']);
    const completed = (await durableEvents(gateway, sessionKey)).filter((e) => e.type === 'turn.completed');
    assert.deepEqual(completed.map((e) => e.turnId), [first, ...rest].map((s) => s.messageId));
  });

  test('collect: messages sent during a turn are merged into the next one', async () => {
    const sessionKey = newSession('collector');
    fake.enqueueFor('collect-0', { kind: 'text', text: 'slow answer', delayMs: 1500 });
    const first = await sendMessage(gateway, { message: 'collect-0', sessionKey });
    await eventually('first turn running', async () => (await gateway.api.sessions.state(sessionKey)).status === 'running');
    const rest = [];
    for (const n of [1, 2, 3]) rest.push(await sendMessage(gateway, { message: `collect-${n}`, sessionKey }));
    const merged = await outcomeOf(gateway, sessionKey, rest[2]!.messageId);
    assert.deepEqual(merged.data.messageIds, rest.map((s) => s.messageId));
    assert.equal(merged.data.result, 'echo: collect-1\n\ncollect-2\n\ncollect-3');
    const completed = (await durableEvents(gateway, sessionKey)).filter((e) => e.type === 'turn.completed');
    assert.equal(completed.length, 2);
  });

  test('interrupt: a new message cancels the running turn and is answered', async () => {
    const sessionKey = newSession('interrupter');
    fake.enqueueFor('interrupt-0', { kind: 'hang' });
    const first = await sendMessage(gateway, { message: 'interrupt-0', sessionKey });
    await eventually('the CLI is waiting on the API', () => mainCallsWith('interrupt-0').length > 0);
    const second = await sendMessage(gateway, { message: 'interrupt-1', sessionKey });
    const cancelled = await outcomeOf(gateway, sessionKey, first.messageId);
    assert.equal(cancelled.type, 'turn.cancelled');
    assert.match(String(cancelled.data.reason), new RegExp(`interrupted by message ${second.messageId}`));
    const answered = await outcomeOf(gateway, sessionKey, second.messageId);
    assert.equal(answered.type, 'turn.completed');
    assert.equal(answered.data.result, 'echo: interrupt-1');
  });
});

describe('cancel and reset', () => {
  test('cancel stops the running turn and leaves no CLI process behind', async () => {
    const sessionKey = newSession();
    fake.enqueueFor('cancel-me', { kind: 'hang' });
    const sent = await sendMessage(gateway, { message: 'cancel-me', sessionKey });
    await eventually('the CLI is waiting on the API', () => mainCallsWith('cancel-me').length > 0);
    const { claudeSessionId } = (await durableEvents(gateway, sessionKey)).find((e) => e.type === 'turn.started')!.data as { claudeSessionId: string };
    assert.ok(processesMatching(claudeSessionId).length > 0, 'the CLI process is running');

    await gateway.api.sessions.cancel(sessionKey, { reason: 'operator said stop' });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.cancelled');
    assert.equal(outcome.data.reason, 'operator said stop');
    assert.deepEqual(processesMatching(claudeSessionId), []);

    const next = await sendMessage(gateway, { message: 'after the cancel', sessionKey });
    assert.equal((await outcomeOf(gateway, sessionKey, next.messageId)).type, 'turn.completed');
  });

  test('reset makes the next turn start a fresh Claude session', async () => {
    const sessionKey = newSession();
    const first = await sendMessage(gateway, { message: 'before-reset', sessionKey });
    await outcomeOf(gateway, sessionKey, first.messageId);
    await gateway.api.sessions.reset(sessionKey);
    const second = await sendMessage(gateway, { message: 'after-reset', sessionKey });
    await outcomeOf(gateway, sessionKey, second.messageId);
    const started = (await durableEvents(gateway, sessionKey)).filter((e) => e.type === 'turn.started');
    assert.notEqual(started[0]!.data.claudeSessionId, started[1]!.data.claudeSessionId);
    assert.equal(started[1]!.data.resumed, false);
    assert.doesNotMatch(JSON.stringify(mainCallsWith('after-reset').at(-1)!.body.messages), /before-reset/);
  });
});

describe('failures', () => {
  test('a 529 then a success gives one result', async () => {
    const sessionKey = newSession();
    fake.enqueueFor('overloaded-once', { kind: 'status', status: 529 });
    const sent = await sendMessage(gateway, { message: 'overloaded-once', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.completed');
    assert.equal(outcome.data.result, 'echo: overloaded-once');
    const events = await durableEvents(gateway, sessionKey);
    assert.equal(events.filter((e) => e.type === 'turn.completed').length, 1);
    assert.equal(events.filter((e) => e.type === 'turn.failed').length, 0);
  });

  test('a 401 fails the turn with a reason a person can act on; the next message works', async () => {
    const sessionKey = newSession();
    fake.enqueueFor('bad-credentials', { kind: 'status', status: 401 });
    const sent = await sendMessage(gateway, { message: 'bad-credentials', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.failed');
    assert.equal(outcome.data.errorType, 'AgentAuthenticationError');
    assert.match(String(outcome.data.reason), /401/);
    assert.match(String(outcome.data.reason), /ANTHROPIC_API_KEY/);
    assert.equal(mainCallsWith('bad-credentials').length, 1, 'not retried');

    const next = await sendMessage(gateway, { message: 'after-401', sessionKey });
    assert.equal((await outcomeOf(gateway, sessionKey, next.messageId)).data.result, 'echo: after-401');
  });

  test('a storm of 529s ends in a clear turn.failed after the configured attempts', async () => {
    const sessionKey = newSession();
    const attempts = gateway.config.agentDefaults.retry.maxAttempts;
    fake.enqueueFor('always-overloaded', ...Array.from({ length: attempts }, () => ({ kind: 'status' as const, status: 529 })));
    const sent = await sendMessage(gateway, { message: 'always-overloaded', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.failed');
    assert.match(String(outcome.data.reason), /529/);
    assert.equal(mainCallsWith('always-overloaded').length, attempts);
  });
});

describe('limits and configuration', () => {
  test('a turn past its timeout fails with a clear reason and its CLI is stopped', async () => {
    const sessionKey = newSession('impatient');
    fake.enqueueFor('never-answers', { kind: 'hang' });
    const sent = await sendMessage(gateway, { message: 'never-answers', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.failed');
    assert.equal(outcome.data.errorType, 'TurnTimedOut');
    assert.match(String(outcome.data.reason), /did not finish within its 4 s limit/);
    const { claudeSessionId } = (await durableEvents(gateway, sessionKey)).find((e) => e.type === 'turn.started')!.data as { claudeSessionId: string };
    await eventually('the timed-out CLI to be stopped', () => processesMatching(claudeSessionId).length === 0);
  });

  test('a missing CLI binary fails the turn at once, saying what to fix', async () => {
    const sessionKey = newSession('nobinary');
    const sent = await sendMessage(gateway, { message: 'no binary', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.failed');
    assert.equal(outcome.data.errorType, 'AgentBinaryNotFound');
    assert.match(String(outcome.data.reason), /agents\.nobinary\.command/);
  });

  test('an unknown agent is refused with 400 and the failing path', async () => {
    const res = await postJson(`${gateway.url}/hooks/agent`, { message: 'x', agent: 'ghost' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'unknown_agent');
    assert.equal(res.body.error.details.issues[0].path, 'body.agent');
  });

  test('a Claude session the CLI no longer has is restarted, and the event says so', async () => {
    const sessionKey = newSession();
    const first = await sendMessage(gateway, { message: 'soon forgotten', sessionKey });
    await outcomeOf(gateway, sessionKey, first.messageId);
    // The CLI keeps its transcripts under CLAUDE_CONFIG_DIR/projects.
    rmSync(path.join(gateway.workDir, 'claude-config', 'projects'), { recursive: true, force: true });
    const second = await sendMessage(gateway, { message: 'after forgetting', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, second.messageId);
    assert.equal(outcome.type, 'turn.completed');
    assert.equal(outcome.data.sessionRestarted, true);
    assert.equal(outcome.data.result, 'echo: after forgetting');
    const third = await sendMessage(gateway, { message: 'third turn', sessionKey });
    const resumed = await outcomeOf(gateway, sessionKey, third.messageId);
    assert.equal(resumed.data.sessionRestarted, undefined);
    assert.match(JSON.stringify(mainCallsWith('third turn').at(-1)!.body.messages), /after forgetting/);
  });
});
