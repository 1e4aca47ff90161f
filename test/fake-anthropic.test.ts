/**
 * Runs the real `claude -p` CLI against the fake Anthropic API.
 * node --import tsx --test test/fake-anthropic.test.ts
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { startFakeAnthropic, claudeEnv, type FakeAnthropic, type RecordedRequest } from './support/fake-anthropic.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLAUDE = path.resolve(root, 'node_modules/.bin/claude');

let fake: FakeAnthropic;
const tmpDirs: string[] = [];

function tmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

interface Turn {
  exitCode: number | undefined;
  lines: any[];
  result: any;
  stdout: string;
  stderr: string;
}

async function turn(prompt: string, opts: { args?: string[]; env?: Record<string, string>; cwd?: string; configDir?: string } = {}): Promise<Turn> {
  const configDir = opts.configDir ?? tmpDir('sy-fake-cfg-');
  const cwd = opts.cwd ?? tmpDir('sy-fake-cwd-');
  const r = await execa(
    CLAUDE,
    ['-p', prompt, '--output-format', 'stream-json', '--verbose', '--include-partial-messages', ...(opts.args ?? [])],
    { cwd, env: { ...claudeEnv(fake, configDir), ...(opts.env ?? {}) }, stdin: 'ignore', reject: false },
  );
  const lines = String(r.stdout)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
  return { exitCode: r.exitCode, lines, result: lines.find((l) => l.type === 'result'), stdout: String(r.stdout), stderr: String(r.stderr) };
}

function mainFor(marker: string): RecordedRequest[] {
  return fake.mainRequests().filter((r) => (r.prompt ?? '').includes(marker));
}

before(async () => {
  fake = await startFakeAnthropic();
});

after(async () => {
  await fake.close();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

// Each test scripts its own prompt with enqueueFor, so they can share one fake and run at once.
describe('real claude CLI against the fake API', { concurrency: true }, () => {
  test('text turn', async () => {
    fake.enqueueFor('marker-text-turn', { kind: 'text', text: 'Hello from the fake API', chunks: 4 });
    const t = await turn('please answer marker-text-turn');
    assert.equal(t.exitCode, 0, t.stdout + t.stderr);
    const init = t.lines[0];
    assert.equal(init.type, 'system');
    assert.equal(init.subtype, 'init');
    assert.ok(t.result, 'a result line');
    assert.equal(t.result.subtype, 'success');
    assert.equal(t.result.is_error, false);
    assert.equal(t.result.result, 'Hello from the fake API');
    assert.equal(t.result.session_id, init.session_id);
    assert.ok(t.result.total_cost_usd > 0, 'usage yields a cost');
    const deltas = t.lines
      .filter((l) => l.type === 'stream_event' && l.event?.delta?.type === 'text_delta')
      .map((l) => l.event.delta.text)
      .join('');
    assert.equal(deltas, 'Hello from the fake API');
    assert.equal(mainFor('marker-text-turn').length, 1);
  });

  test('tool turn with Bash allowed: the tool result reaches the fake', async () => {
    fake.enqueueFor('marker-tool-turn', {
      kind: 'tool',
      name: 'Bash',
      input: { command: 'echo tool-output-$((6*7))', description: 'print a number' },
      then: 'The command printed 42',
    });
    const t = await turn('run a command marker-tool-turn', { args: ['--allowedTools', 'Bash'] });
    assert.equal(t.exitCode, 0, t.stdout + t.stderr);
    assert.equal(t.result?.subtype, 'success');
    assert.equal(t.result.result, 'The command printed 42');
    assert.equal(t.result.num_turns, 2);
    assert.deepEqual(t.result.permission_denials, []);
    const toolUse = t.lines.find((l) => l.type === 'assistant' && l.message.content.some((b: any) => b.type === 'tool_use'));
    assert.ok(toolUse, 'an assistant tool_use line');
    const userLine = t.lines.find((l) => l.type === 'user');
    assert.equal(userLine?.message.content[0].type, 'tool_result');
    assert.equal(userLine.message.content[0].content, 'tool-output-42');

    const reqs = mainFor('marker-tool-turn');
    assert.equal(reqs.length, 2);
    const followUp = reqs[1]!;
    assert.equal(followUp.answeredWith, 'tool-followup');
    assert.equal(followUp.toolResults?.length, 1);
    assert.equal(followUp.toolResults?.[0]?.content, 'tool-output-42');
    assert.notEqual(followUp.toolResults?.[0]?.is_error, true);
  });

  test('401: is_error result and exit 1', async () => {
    fake.enqueueFor('marker-auth-fail', { kind: 'status', status: 401 });
    // Without CLAUDE_CODE_MAX_RETRIES=0 the CLI retries a 401 ten times (about three minutes).
    const t = await turn('hello marker-auth-fail', { env: { CLAUDE_CODE_MAX_RETRIES: '0' } });
    assert.equal(t.exitCode, 1);
    assert.ok(t.result, 'a result line');
    assert.equal(t.result.is_error, true);
    assert.equal(t.result.api_error_status, 401);
    assert.match(t.result.result, /Invalid API key/);
    assert.equal(mainFor('marker-auth-fail').length, 1);
  });

  test('resume: the second turn carries the first exchange', async () => {
    const configDir = tmpDir('sy-fake-cfg-');
    const cwd = tmpDir('sy-fake-cwd-'); // sessions are stored per cwd: resume from the same one
    fake.enqueueFor('marker-resume-first', { kind: 'text', text: 'first answer 7731' });
    const first = await turn('remember marker-resume-first', { configDir, cwd });
    assert.equal(first.exitCode, 0, first.stdout + first.stderr);
    const sessionId = first.result?.session_id;
    assert.ok(sessionId);

    fake.enqueueFor('marker-resume-second', { kind: 'text', text: 'second answer' });
    const second = await turn('and now marker-resume-second', { configDir, cwd, args: ['--resume', sessionId] });
    assert.equal(second.exitCode, 0, second.stdout + second.stderr);
    assert.equal(second.result.result, 'second answer');
    assert.equal(second.result.session_id, sessionId);

    const req = mainFor('marker-resume-second')[0];
    assert.ok(req);
    assert.equal(req.sessionId, sessionId);
    const messages: any[] = req.body.messages;
    const text = (m: any) => (typeof m.content === 'string' ? m.content : m.content.map((b: any) => b.text ?? '').join(''));
    assert.ok(messages.some((m) => m.role === 'user' && text(m).includes('remember marker-resume-first')));
    assert.ok(messages.some((m) => m.role === 'assistant' && text(m).includes('first answer 7731')));
  });
});
