import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentEnvironment, buildClaudeInvocation } from '../activities/claude-invocation.js';
import { AgentSchema } from '../config/schema.js';

test('every agent setting becomes its CLI flag; the prompt goes through stdin', () => {
  const agent = AgentSchema.parse({
    model: 'opus',
    permissionMode: 'acceptEdits',
    allowedTools: ['Bash(git:*)', 'Read'],
    disallowedTools: ['WebFetch'],
    appendSystemPrompt: 'Be brief.',
    maxTurns: 5,
    maxBudgetUsd: 0.5,
    settingsFile: 'settings.json',
    mcpConfig: ['mcp.json'],
    addDirs: ['../shared'],
    cwd: 'work',
  });
  const call = buildClaudeInvocation(agent, { prompt: '--not-a-flag', claudeSessionId: 'sid', resume: false }, { command: '/bin/claude', baseEnv: {}, baseDir: '/srv' });
  assert.equal(call.input, '--not-a-flag');
  assert.equal(call.cwd, '/srv/work');
  const flag = (name: string) => call.args[call.args.indexOf(name) + 1];
  assert.ok(call.args.includes('-p') && call.args.includes('--verbose'));
  assert.equal(flag('--output-format'), 'stream-json');
  assert.equal(flag('--model'), 'opus');
  assert.equal(flag('--permission-mode'), 'acceptEdits');
  assert.equal(flag('--session-id'), 'sid');
  assert.equal(flag('--allowedTools'), 'Bash(git:*),Read');
  assert.equal(flag('--disallowedTools'), 'WebFetch');
  assert.equal(flag('--append-system-prompt'), 'Be brief.');
  assert.equal(flag('--max-turns'), '5');
  assert.equal(flag('--max-budget-usd'), '0.5');
  assert.equal(flag('--settings'), '/srv/settings.json');
  assert.equal(flag('--mcp-config'), '/srv/mcp.json');
  assert.equal(flag('--add-dir'), '/shared');
  assert.ok(!call.args.includes('--not-a-flag'));

  const resumed = buildClaudeInvocation(agent, { prompt: 'x', claudeSessionId: 'sid', resume: true }, { command: 'c', baseEnv: {}, baseDir: '/' });
  assert.equal(resumed.args[resumed.args.indexOf('--resume') + 1], 'sid');
  assert.ok(!resumed.args.includes('--session-id'));
});

test("the agent's environment never holds the gateway's secrets, and the CLI's retries are off", () => {
  const agent = AgentSchema.parse({ env: { EXTRA: '1' } });
  const env = agentEnvironment({ PATH: '/bin', SWITCHYARD_TOKEN: 'secret', SWITCHYARD_INTERNAL_TOKEN: 'x', SWITCHYARD_GATEWAY__PORT: '1' }, agent);
  assert.equal(env.PATH, '/bin');
  assert.equal(env.EXTRA, '1');
  assert.equal(env.CLAUDE_CODE_MAX_RETRIES, '0');
  assert.deepEqual(Object.keys(env).filter((k) => k.startsWith('SWITCHYARD_')), []);
});

test('a prompt starting with "/" is plain text unless the agent allows slash commands', () => {
  const context = { command: 'c', baseEnv: {}, baseDir: '/' };
  const turn = { prompt: '/compact now', claudeSessionId: 'sid', resume: false };
  assert.equal(buildClaudeInvocation(AgentSchema.parse({}), turn, context).input, ' /compact now');
  assert.equal(buildClaudeInvocation(AgentSchema.parse({ slashCommands: true }), turn, context).input, '/compact now');
  assert.equal(buildClaudeInvocation(AgentSchema.parse({}), { ...turn, prompt: 'a /b' }, context).input, 'a /b');
});
