import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import YAML from 'yaml';
import { addConfigFlagOptions, configCommand, flagLayerFromOptions, flagsFromOptions } from '../cli/commands/config.js';

const roots: string[] = [];
after(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

function project(text: string) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-cmd-'));
  roots.push(root);
  fs.writeFileSync(path.join(root, 'switchyard.yaml'), text);
  return { cwd: root, file: path.join(root, 'switchyard.yaml'), env: { HOME: root, SWITCHYARD_HOME: path.join(root, 'home') } as NodeJS.ProcessEnv };
}

/** Runs `switchyard config ...args`; returns stdout, stderr and the exit code (0 when it returned). */
async function run(args: string[], at: { cwd: string; env: NodeJS.ProcessEnv }) {
  let stdout = '';
  let stderr = '';
  const command = configCommand({ cwd: at.cwd, env: at.env, writeOut: (text) => (stdout += text) });
  command.exitOverride();
  command.configureOutput({ writeOut: (text) => (stdout += text), writeErr: (text) => (stderr += text) });
  for (const sub of command.commands) sub.exitOverride().configureOutput({ writeOut: (text) => (stdout += text), writeErr: (text) => (stderr += text) });
  let exitCode = 0;
  try {
    await command.parseAsync(['node', 'config', ...args]);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    exitCode = error.exitCode;
  }
  return { stdout, stderr, exitCode };
}

const PROJECT = 'gateway:\n  port: 9100\n  auth:\n    token: tok-SECRET\nagentDefaults:\n  env:\n    ANTHROPIC_API_KEY: sk-SECRET\n';

describe('switchyard config', () => {
  test('prints the resolved config as YAML, redacted', async () => {
    const at = project(PROJECT);
    const { stdout, exitCode } = await run([], at);
    assert.equal(exitCode, 0);
    const printed = YAML.parse(stdout);
    assert.equal(printed.gateway.port, 9100);
    assert.equal(printed.gateway.auth.token, '[redacted]');
    assert.equal(printed.agentDefaults.env.ANTHROPIC_API_KEY, '[redacted]');
    assert.deepEqual(printed.agents, { main: {} });
    assert.doesNotMatch(stdout, /SECRET/);
  });

  test('--json', async () => {
    const at = project(PROJECT);
    const { stdout } = await run(['--json'], at);
    const printed = JSON.parse(stdout);
    assert.equal(printed.gateway.port, 9100);
    assert.equal(printed.gateway.auth.token, '[redacted]');
  });

  test('--explain: value, layer and source per key', async () => {
    const at = project(PROJECT);
    const { stdout } = await run(['--explain', '--port', '9200', '--set', 'worker.maxConcurrentTurns=3'], { ...at, env: { ...at.env, SWITCHYARD_LOG__LEVEL: 'debug' } });
    assert.match(stdout, /^PATH +VALUE +LAYER +SOURCE\n/);
    assert.match(stdout, /\ngateway\.port +9200 +flag +--port\n/);
    assert.match(stdout, /\nworker\.maxConcurrentTurns +3 +flag +--set worker\.maxConcurrentTurns\n/);
    assert.match(stdout, /\nlog\.level +debug +env +SWITCHYARD_LOG__LEVEL\n/);
    assert.match(stdout, new RegExp(`\\ngateway\\.auth\\.token +\\[redacted\\] +project +${at.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    assert.match(stdout, /\ngateway\.bind +127\.0\.0\.1 +default +built-in\n/);
    assert.doesNotMatch(stdout, /SECRET/);
  });

  test('--explain --json', async () => {
    const at = project(PROJECT);
    const entries = JSON.parse((await run(['--explain', '--json', '--bind', '0.0.0.0'], at)).stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(entries.find((entry) => entry.path === 'gateway.bind'), { path: 'gateway.bind', value: '0.0.0.0', layer: 'flag', source: '--bind' });
  });

  test('--set values are YAML, but string fields keep the text', async () => {
    const at = project('');
    const { stdout } = await run(['--json', '--set', 'agentDefaults.allowedTools=[Read, Grep]', '--set', 'agentDefaults.model=2024', '--set', 'agents.reviewer.maxTurns=5'], at);
    const printed = JSON.parse(stdout);
    assert.deepEqual(printed.agentDefaults.allowedTools, ['Read', 'Grep']);
    assert.equal(printed.agentDefaults.model, '2024');
    assert.deepEqual(printed.agents.reviewer, { maxTurns: 5 });
  });

  test('invalid config: message on stderr, exit 78', async () => {
    const at = project('gateway:\n  port: abc\n');
    const { stdout, stderr, exitCode } = await run([], at);
    assert.equal(exitCode, 78);
    assert.equal(stdout, '');
    assert.equal(stderr, `${at.file}: gateway.port: expected a number, got "abc"\n`);
  });

  test('invalid flag value: exit 78 naming the flag', async () => {
    const at = project('');
    const { stderr, exitCode } = await run(['--port', 'http'], at);
    assert.equal(exitCode, 78);
    assert.equal(stderr, '--port: gateway.port: expected a number, got "http"\n');
  });

  test('malformed --set is a usage error', async () => {
    const at = project('');
    const { stderr, exitCode } = await run(['--set', 'nonsense'], at);
    assert.equal(exitCode, 1);
    assert.match(stderr, /expected <path>=<value>/);
  });

  test('config schema prints the JSON Schema', async () => {
    const at = project('gateway:\n  port: abc\n');
    const { stdout, exitCode } = await run(['schema'], at);
    assert.equal(exitCode, 0, 'the schema does not depend on the config being valid');
    const schema = JSON.parse(stdout);
    assert.deepEqual(Object.keys(schema.properties), ['gateway', 'temporal', 'worker', 'log', 'agentDefaults', 'agents', 'webhooks', 'cron', 'channels', 'observability']);
  });
});

describe('flagsFromOptions', () => {
  test('maps --set, --port and --bind to dotted paths', () => {
    assert.deepEqual(flagsFromOptions({ set: ['gateway.port=9000', 'agents.x.allowedTools=[A]', 'agentDefaults.model=1'], port: '9300', bind: '0.0.0.0' }), {
      'gateway.port': 9300,
      'agents.x.allowedTools': ['A'],
      'agentDefaults.model': '1',
      'gateway.bind': '0.0.0.0',
    });
    assert.deepEqual(flagLayerFromOptions({ port: '1' }).flagSources, { 'gateway.port': '--port' });
    assert.deepEqual(flagsFromOptions({}), {});
  });

  test('global flags on a parent program reach the config command', async () => {
    const at = project('');
    let stdout = '';
    const program = addConfigFlagOptions(new Command('switchyard')).exitOverride();
    program.addCommand(configCommand({ cwd: at.cwd, env: at.env, writeOut: (text) => (stdout += text) }));
    await program.parseAsync(['node', 'switchyard', '--port', '9400', 'config', '--json']);
    assert.equal(JSON.parse(stdout).gateway.port, 9400);
  });
});
