// Records real session histories for the replay test: `npx tsx test/histories/record.ts NAME`
// writes NAME-run-1.json, NAME-run-2.json. Run it when the workflow changes on purpose, under a
// new NAME (keep the old files: running sessions still have those histories), never to make
// a failing replay pass.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { resolveTemporalBinary } from '../../supervisor/temporal-binary.js';
import { startTestTemporal } from '../support/dev-server.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';

const name = process.argv[2];
if (!name || !/^[a-z0-9-]+$/.test(name)) throw new Error('usage: npx tsx test/histories/record.ts NAME (lowercase letters, digits, dashes)');
const binary = await resolveTemporalBinary();
if (binary.kind !== 'path') throw new Error('recording needs the temporal CLI binary');
const temporalBin = binary.path;
const temporal = await startTestTemporal();
process.env.SWITCHYARD_TEST_TEMPORAL_ADDRESS = temporal.address;
const { startTestGateway } = await import('../support/gateway.js');
const { outcomeOf, sendMessage, eventually } = await import('../support/sessions.js');

const fake = await startFakeAnthropic();
const gateway = await startTestGateway({
  fake,
  config: { worker: { maxTurnsPerRun: 3 }, agentDefaults: { allowedTools: ['Bash'] } },
});
const sessionKey = `agent:main:replay-${Date.now().toString(36)}`;
try {
  // Run 1: a text turn, a tool turn, a 529 retried to success; a duplicate; then continue-as-new.
  const a = await sendMessage(gateway, { message: 'replay text turn', sessionKey, idempotencyKey: 'k-1' });
  await outcomeOf(gateway, sessionKey, a.messageId);
  await sendMessage(gateway, { message: 'replay text turn', sessionKey, idempotencyKey: 'k-1' });
  fake.enqueueFor('replay tool turn', { kind: 'tool', name: 'Bash', input: { command: 'echo replay' }, then: 'tool done' });
  const b = await sendMessage(gateway, { message: 'replay tool turn', sessionKey });
  await outcomeOf(gateway, sessionKey, b.messageId);
  fake.enqueueFor('replay overloaded', { kind: 'status', status: 529 });
  const c = await sendMessage(gateway, { message: 'replay overloaded', sessionKey });
  await outcomeOf(gateway, sessionKey, c.messageId);
  // Run 2: a cancelled turn, a 401, a reset, a turn after it.
  fake.enqueueFor('replay hang', { kind: 'hang' });
  const d = await sendMessage(gateway, { message: 'replay hang', sessionKey });
  await eventually('hanging turn', () => fake.mainRequests().some((r) => r.prompt?.includes('replay hang')));
  await gateway.api.sessions.cancel(sessionKey, { reason: 'recording a cancel' });
  await outcomeOf(gateway, sessionKey, d.messageId);
  fake.enqueueFor('replay unauthorized', { kind: 'status', status: 401 });
  const e = await sendMessage(gateway, { message: 'replay unauthorized', sessionKey });
  await outcomeOf(gateway, sessionKey, e.messageId);
  await gateway.api.sessions.reset(sessionKey);
  const f = await sendMessage(gateway, { message: 'replay after reset', sessionKey });
  await outcomeOf(gateway, sessionKey, f.messageId);

  const runs = [];
  for await (const run of gateway.client.workflow.list({ query: `WorkflowId = "session:${sessionKey}"` })) runs.push(run);
  runs.sort((x, y) => x.startTime.getTime() - y.startTime.getTime());
  for (const [index, run] of runs.entries()) {
    // The temporal CLI writes the standard JSON history format that replayers read.
    const json = execFileSync(temporalBin, ['workflow', 'show', '--address', temporal.address, '--workflow-id', run.workflowId, '--run-id', run.runId, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const file = path.join(import.meta.dirname, `${name}-run-${index + 1}.json`);
    writeFileSync(file, json);
    console.log(`wrote ${file} (${(JSON.parse(json) as { events: unknown[] }).events.length} events)`);
  }
} finally {
  await gateway.close();
  await fake.close();
  await temporal.teardown();
}
