// Fault test 4 (issue 9): the Claude CLI crashing mid-stream, hanging without output, and
// failing on every attempt. Bounded retries, then a clear `turn.failed`; the session serves
// the next message. (A storm of 529s and a turn past its timeout: test/sessions.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic, type RecordedRequest, type Reply } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { durableEvents, eventually, outcomeOf, processesMatching, recordLiveEvents, sendMessage } from './support/sessions.js';

let fake: FakeAnthropic;
let gateway: TestGateway;
// Longer than a loaded machine needs to start the CLI (it counts as silence), short enough
// for a test.
const STALL = '12s';
const echo = (req: RecordedRequest): Reply => ({ kind: 'text', text: `echo: ${req.prompt ?? ''}` });
/** Every main call whose prompt is exactly `prompt` gets `reply`, whatever the attempt. */
function alwaysFor(prompt: string, reply: Reply): void {
  fake.setDefault((req) => (req.prompt === prompt ? reply : echo(req)));
}

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    config: {
      agentDefaults: { allowedTools: ['Bash'] },
      agents: {
        main: {},
        watched: { stallTimeout: STALL, retry: { maxAttempts: 2 } },
        fragile: { retry: { maxAttempts: 2 } },
      },
    },
  });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

const newSession = (agent = 'main') => `agent:${agent}:${uniqueScope('fault')}`;
const mainCallsWith = (text: string) => fake.mainRequests().filter((r) => r.prompt?.includes(text));

async function claudeSessionOf(sessionKey: string): Promise<string> {
  return eventually('turn.started', async () => {
    const started = (await durableEvents(gateway, sessionKey)).find((e) => e.type === 'turn.started');
    return started?.data.claudeSessionId as string | undefined;
  });
}

// The three wait on timers more than they work, each in a session of its own: run them at once.
describe('a hung CLI', { concurrency: true }, () => {
  test('one that writes nothing is stopped after stallTimeout and retried; the retry answers', async () => {
    const sessionKey = newSession('watched');
    fake.enqueueFor('hang-once', { kind: 'hang' });
    const sent = await sendMessage(gateway, { message: 'hang-once', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.completed');
    assert.equal(outcome.data.result, 'echo: hang-once');
    assert.equal(mainCallsWith('hang-once').length, 2, 'the hung attempt, then the retry');
    const events = await durableEvents(gateway, sessionKey);
    assert.equal(events.filter((e) => e.type === 'turn.completed').length, 1);
    assert.equal(events.filter((e) => e.type === 'turn.failed').length, 0);
    await eventually('no CLI left', async () => processesMatching(await claudeSessionOf(sessionKey)).length === 0);
  });

  test('one that hangs on every attempt ends in AgentStalled naming the setting; the next message is answered', async () => {
    const sessionKey = newSession('watched');
    alwaysFor('always-hangs', { kind: 'hang' });
    const sent = await sendMessage(gateway, { message: 'always-hangs', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    fake.setDefault(echo);
    assert.equal(outcome.type, 'turn.failed');
    assert.equal(outcome.data.errorType, 'AgentStalled');
    assert.match(String(outcome.data.reason), new RegExp(`wrote nothing for ${STALL}`));
    assert.match(String(outcome.data.reason), /agents\.watched\.stallTimeout/);
    assert.match(String(outcome.data.reason), /attempt 2/);
    assert.ok(mainCallsWith('always-hangs').length <= 2, 'bounded by retry.maxAttempts');
    await eventually('no CLI left', async () => processesMatching(await claudeSessionOf(sessionKey)).length === 0);

    const next = await sendMessage(gateway, { message: 'after-the-hangs', sessionKey });
    // The failed prompt may stay in the Claude session, merged into the next user message.
    assert.match(String((await outcomeOf(gateway, sessionKey, next.messageId)).data.result), /^echo: (.*\n)?after-the-hangs$/s);
  });

  test('a tool that runs silently for longer than stallTimeout is not a stall', async () => {
    const sessionKey = newSession('watched');
    fake.enqueueFor('slow-tool', { kind: 'tool', name: 'Bash', input: { command: 'sleep 16 && echo slept', description: 'wait' }, then: 'the tool slept' });
    const sent = await sendMessage(gateway, { message: 'slow-tool', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(outcome.type, 'turn.completed');
    assert.equal(outcome.data.result, 'the tool slept');
    assert.equal(mainCallsWith('slow-tool').filter((r) => r.answeredWith === 'tool').length, 1, 'not retried');
  });
});

describe('a crashing CLI', () => {
  test('one killed mid-stream is retried and the message is answered once', async () => {
    const sessionKey = newSession();
    const live = recordLiveEvents(gateway, sessionKey);
    fake.enqueueFor('killed-mid-stream', { kind: 'text', text: 'a long answer that will not finish', chunks: 30, delayMs: 300 });
    const sent = await sendMessage(gateway, { message: 'killed-mid-stream', sessionKey });
    await eventually('the answer is streaming', () => live.events.some((e) => e.type === 'turn.delta'));
    const claudeSessionId = await claudeSessionOf(sessionKey);
    const pids = processesMatching(claudeSessionId);
    assert.ok(pids.length > 0, 'the CLI is running');
    for (const pid of pids) process.kill(pid, 'SIGKILL');

    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    live.stop();
    assert.equal(outcome.type, 'turn.completed');
    assert.equal(outcome.data.result, 'echo: killed-mid-stream');
    const events = await durableEvents(gateway, sessionKey);
    assert.deepEqual(
      events.map((e) => e.type),
      ['turn.queued', 'turn.started', 'turn.completed'],
    );
  });

  test('an API connection that breaks mid-stream on every attempt ends in a clear turn.failed; the next message is answered', async () => {
    const sessionKey = newSession('fragile');
    alwaysFor('always-breaks', { kind: 'crash', afterChunks: 2 });
    const sent = await sendMessage(gateway, { message: 'always-breaks', sessionKey });
    const outcome = await outcomeOf(gateway, sessionKey, sent.messageId);
    fake.setDefault(echo);
    assert.equal(outcome.type, 'turn.failed');
    assert.ok(['AgentCrashed', 'AgentApiError'].includes(String(outcome.data.errorType)), `errorType ${outcome.data.errorType}`);
    assert.match(String(outcome.data.reason), /attempt 2/);
    const next = await sendMessage(gateway, { message: 'after-the-breaks', sessionKey });
    const answered = await outcomeOf(gateway, sessionKey, next.messageId);
    assert.equal(answered.type, 'turn.completed');
    assert.match(String(answered.data.result), /^echo: (.*\n)?after-the-breaks$/s);
  });
});
