import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, CONFIG_EXIT_CODE, isConfigError } from '../config/errors.js';
import { loadConfig, type LoadConfigOptions } from '../config/load.js';

const roots: string[] = [];
after(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

/** Loads a project file (and options) in a temp dir; returns the ConfigError it must throw. */
function failure(project: string | undefined, options: Omit<LoadConfigOptions, 'cwd'> & { vars?: Record<string, string> } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-errors-'));
  roots.push(root);
  const file = path.join(root, 'switchyard.yaml');
  if (project !== undefined) fs.writeFileSync(file, project);
  const env = { HOME: root, SWITCHYARD_HOME: path.join(root, 'home'), ...options.vars };
  let caught: unknown;
  try {
    loadConfig({ cwd: root, env, flags: options.flags, flagSources: options.flagSources });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught, 'loadConfig should have thrown');
  assert.ok(isConfigError(caught), `expected a ConfigError, got ${String(caught)}`);
  assert.ok(caught instanceof ConfigError);
  assert.equal(caught.exitCode, 78);
  assert.equal(CONFIG_EXIT_CODE, 78);
  return { error: caught, file, message: caught.message };
}

describe('errors name the source, the path and what was expected; exit code 78', () => {
  test('bad type', () => {
    const { message, file } = failure('gateway:\n  port: abc\n');
    assert.equal(message, `${file}: gateway.port: expected a number, got "abc"`);
  });

  test('bad type: an integer field given a fraction, a list given a scalar, a mapping given a list', () => {
    assert.match(failure('worker:\n  maxConcurrentTurns: 1.5\n').message, /worker\.maxConcurrentTurns: expected an integer, got 1\.5$/);
    assert.match(failure('agentDefaults:\n  allowedTools: Read\n').message, /agentDefaults\.allowedTools: expected a list, got "Read"$/);
    assert.match(failure('gateway: [1, 2]\n').message, /: gateway: expected a mapping, got a list$/);
    assert.match(failure('agentDefaults:\n  allowedTools: [Read, 3]\n').message, /agentDefaults\.allowedTools\.1: expected a string, got 3$/);
  });

  test('out of range', () => {
    const { message, file } = failure('gateway:\n  port: 70000\n');
    assert.equal(message, `${file}: gateway.port: expected a number <= 65535, got 70000`);
    assert.match(failure('worker:\n  maxConcurrentTurns: 0\n').message, /worker\.maxConcurrentTurns: expected a number > 0, got 0$/);
    assert.match(failure('agentDefaults:\n  model: ""\n').message, /agentDefaults\.model: expected a non-empty string, got ""$/);
  });

  test('unknown key, with a suggestion and the keys that are allowed', () => {
    const { message, file } = failure('gateway:\n  prot: 8000\n');
    assert.ok(message.startsWith(`${file}: gateway.prot: unknown key; did you mean "port"? expected one of: bind, port, auth,`), message);
    assert.match(failure('gatway:\n  port: 1\n').message, /: gatway: unknown key; did you mean "gateway"\?/);
    assert.match(failure('agents:\n  main:\n    modle: opus\n').message, /agents\.main\.modle: unknown key; did you mean "model"\?/);
  });

  test('bad enum', () => {
    const { message, file } = failure('agentDefaults:\n  busy: fifo\n');
    assert.equal(message, `${file}: agentDefaults.busy: expected one of queue, collect, interrupt, got "fifo"`);
  });

  test('bad duration', () => {
    const { message, file } = failure('agents:\n  reviewer:\n    turnTimeout: 10 minutes\n');
    assert.equal(message, `${file}: agents.reviewer.turnTimeout: expected a duration such as 500ms, 30s, 10m, 2h or 1d, got "10 minutes"`);
  });

  test('bad agent name', () => {
    assert.match(failure('agents:\n  "-bad": {}\n').message, /agents\.-bad: invalid name "-bad": expected letters, digits/);
  });

  test('bad temporal address', () => {
    assert.match(failure('temporal:\n  address: nowhere\n').message, /temporal\.address: expected "embedded" or host:port, got "nowhere"$/);
  });

  test('YAML syntax error: file, line and column', () => {
    const { message, file } = failure('gateway:\n  port: 1\n bind: x\n');
    assert.equal(message, `${file}:3:1: invalid YAML: All mapping items must start at the same column`);
    assert.match(failure('a: "unterminated\n').message, /switchyard\.yaml:\d+:\d+: invalid YAML: /);
    assert.match(failure('gateway:\n  port: 1\n  port: 2\n').message, /switchyard\.yaml:3:3: invalid YAML: Map keys must be unique/);
  });

  test('YAML syntax errors do not quote the offending line (it may hold a secret)', () => {
    const { message } = failure('gateway:\n  auth:\n    token: "hunter2-very-secret\n');
    assert.doesNotMatch(message, /hunter2/);
  });

  test('a file that is not a mapping', () => {
    assert.match(failure('- a\n- b\n').message, /switchyard\.yaml: expected a mapping of sections .* got a list$/);
    assert.match(failure('just text\n').message, /switchyard\.yaml: expected a mapping of sections .* got a string$/);
  });

  test('missing variable in interpolation', () => {
    const { message, file } = failure('gateway:\n  auth:\n    token: ${NOT_SET_ANYWHERE}\n');
    assert.equal(message, `${file}: gateway.auth.token: environment variable NOT_SET_ANYWHERE is not set (write \${NOT_SET_ANYWHERE:-default} to give a default)`);
  });

  test('an unreadable file', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-errors-'));
    roots.push(root);
    fs.mkdirSync(path.join(root, 'switchyard.yaml'));
    assert.throws(() => loadConfig({ cwd: root, env: { HOME: root, SWITCHYARD_HOME: path.join(root, 'h') } }), (error: unknown) => {
      assert.ok(isConfigError(error));
      assert.match(error.message, /switchyard\.yaml: cannot read the file \(EISDIR\)/);
      return true;
    });
  });

  test('errors from env vars name the variable', () => {
    assert.equal(failure(undefined, { vars: { SWITCHYARD_GATEWAY__PORT: 'abc' } }).message, 'SWITCHYARD_GATEWAY__PORT: gateway.port: expected a number, got "abc"');
    assert.match(failure(undefined, { vars: { SWITCHYARD_GATEWAY__PROT: '1' } }).message, /^SWITCHYARD_GATEWAY__PROT: gateway\.prot: unknown key/);
    assert.match(failure(undefined, { vars: { SWITCHYARD_NOPE__X: '1' } }).message, /^SWITCHYARD_NOPE__X: nope: unknown key/);
    assert.match(failure(undefined, { vars: { SWITCHYARD_GATEWAY__PORT__X: '1' } }).message, /^SWITCHYARD_GATEWAY__PORT__X: gateway\.port: expected a number, got a mapping$/);
    assert.match(failure(undefined, { vars: { SWITCHYARD_GATEWAY____PORT: '1' } }).message, /^SWITCHYARD_GATEWAY____PORT: empty path segment/);
    assert.match(failure(undefined, { vars: { SWITCHYARD_ENV: '../etc' } }).message, /^SWITCHYARD_ENV: expected an environment name/);
  });

  test('errors from flags name the flag', () => {
    assert.equal(failure(undefined, { flags: { 'gateway.port': 'abc' }, flagSources: { 'gateway.port': '--port' } }).message, '--port: gateway.port: expected a number, got "abc"');
    assert.equal(failure(undefined, { flags: { 'log.level': 'loud' } }).message, '--set log.level: log.level: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"');
    assert.match(failure(undefined, { flags: { 'gateway..port': 1 } }).message, /^--set gateway\.\.port: expected a dotted config path/);
  });

  test('the layer that set the bad value is named, not the first file', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-errors-'));
    roots.push(root);
    const home = path.join(root, 'home');
    fs.mkdirSync(home);
    fs.writeFileSync(path.join(home, 'config.yaml'), 'gateway:\n  bind: 0.0.0.0\n  port: nope\n');
    fs.writeFileSync(path.join(root, 'switchyard.yaml'), 'gateway:\n  bind: 127.0.0.1\n');
    assert.throws(() => loadConfig({ cwd: root, env: { HOME: root, SWITCHYARD_HOME: home } }), {
      message: `${path.join(home, 'config.yaml')}: gateway.port: expected a number, got "nope"`,
    });
  });

  test('several problems: one line each', () => {
    const { error, file } = failure('gateway:\n  port: abc\n  prot: 1\nagentDefaults:\n  busy: fifo\n');
    assert.equal(error.issues.length, 3);
    assert.deepEqual(error.message.split('\n').map((line) => line.split(': ').slice(0, 2).join(': ')).sort(), [
      `${file}: agentDefaults.busy`,
      `${file}: gateway.port`,
      `${file}: gateway.prot`,
    ]);
  });
});

describe('secrets never appear in error messages', () => {
  test('a secret field of the wrong type is described, not quoted', () => {
    const { message } = failure(undefined, { flags: { 'gateway.auth.token': ['s3cret-in-a-list'] } });
    assert.match(message, /gateway\.auth\.token: expected a string, got a list$/);
    assert.doesNotMatch(message, /s3cret/);
  });

  test('a secret-looking env key of the wrong type', () => {
    const { message } = failure('agentDefaults:\n  env:\n    ANTHROPIC_API_KEY: 123456789\n');
    assert.match(message, /agentDefaults\.env\.ANTHROPIC_API_KEY: expected a string, got a number$/);
    assert.doesNotMatch(message, /123456789/);
  });

  test('a non-secret field shows the value', () => {
    assert.match(failure('agentDefaults:\n  env:\n    PLAIN: 42\n').message, /got 42$/);
  });
});
