import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type LoadConfigOptions } from '../config/load.js';
import { resolveAgent, agentIds } from '../config/schema.js';

const roots: string[] = [];
after(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

/** A temp home and project directory, and an env that points at them (never the real env). */
function fixture(files: { user?: string; project?: string; environment?: [name: string, text: string] } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-config-'));
  roots.push(root);
  const home = path.join(root, 'home');
  const cwd = path.join(root, 'project');
  fs.mkdirSync(home);
  fs.mkdirSync(cwd);
  const userFile = path.join(home, 'config.yaml');
  const projectFile = path.join(cwd, 'switchyard.yaml');
  if (files.user !== undefined) fs.writeFileSync(userFile, files.user);
  if (files.project !== undefined) fs.writeFileSync(projectFile, files.project);
  let environmentFile = '';
  if (files.environment) {
    environmentFile = path.join(cwd, `switchyard.${files.environment[0]}.yaml`);
    fs.writeFileSync(environmentFile, files.environment[1]);
  }
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ HOME: root, SWITCHYARD_HOME: home, ...extra });
  const load = (options: Omit<LoadConfigOptions, 'cwd'> = {}) => loadConfig({ cwd, env: env(), ...options });
  return { root, home, cwd, userFile, projectFile, environmentFile, env, load };
}

describe('defaults', () => {
  test('no files, no env: the schema defaults, with main', () => {
    const f = fixture();
    const { config, files, origins } = f.load();
    assert.equal(config.gateway.port, 8420);
    assert.equal(config.gateway.bind, '127.0.0.1');
    assert.equal(config.gateway.auth.token, undefined);
    assert.equal(config.temporal.address, 'embedded');
    assert.equal(config.worker.maxConcurrentTurns, 4);
    assert.equal(config.agentDefaults.model, 'sonnet');
    assert.equal(config.agentDefaults.turnTimeout, '10m');
    assert.deepEqual(config.agents, { main: {} });
    assert.deepEqual(files, []);
    assert.deepEqual(origins.get('gateway.port'), { layer: 'default', source: 'built-in' });
    assert.deepEqual(origins.get('agents.main'), { layer: 'default', source: 'built-in' });
  });

  test('SWITCHYARD_HOME defaults to ~/.switchyard', () => {
    const f = fixture();
    const userDir = path.join(f.root, '.switchyard');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'config.yaml'), 'gateway: { port: 9999 }\n');
    const loaded = loadConfig({ cwd: f.cwd, env: { HOME: f.root } });
    assert.equal(loaded.config.gateway.port, 9999);
    assert.deepEqual(loaded.files, [path.join(userDir, 'config.yaml')]);
  });
});

describe('each layer alone', () => {
  test('user: $SWITCHYARD_HOME/config.yaml', () => {
    const f = fixture({ user: 'gateway:\n  port: 9001\n' });
    const loaded = f.load();
    assert.equal(loaded.config.gateway.port, 9001);
    assert.deepEqual(loaded.files, [f.userFile]);
    assert.deepEqual(loaded.origins.get('gateway.port'), { layer: 'user', source: f.userFile });
  });

  test('project: ./switchyard.yaml relative to cwd', () => {
    const f = fixture({ project: 'gateway:\n  port: 9002\n' });
    const loaded = f.load();
    assert.equal(loaded.config.gateway.port, 9002);
    assert.deepEqual(loaded.files, [f.projectFile]);
    assert.deepEqual(loaded.origins.get('gateway.port'), { layer: 'project', source: f.projectFile });
  });

  test('environment: ./switchyard.<SWITCHYARD_ENV>.yaml', () => {
    const f = fixture({ environment: ['staging', 'gateway:\n  port: 9003\n'] });
    const loaded = loadConfig({ cwd: f.cwd, env: f.env({ SWITCHYARD_ENV: 'staging' }) });
    assert.equal(loaded.config.gateway.port, 9003);
    assert.deepEqual(loaded.origins.get('gateway.port'), { layer: 'environment', source: f.environmentFile });
  });

  test('environment: NODE_ENV when SWITCHYARD_ENV is unset; SWITCHYARD_ENV wins over NODE_ENV', () => {
    const f = fixture({ environment: ['production', 'gateway:\n  port: 9004\n'] });
    assert.equal(loadConfig({ cwd: f.cwd, env: f.env({ NODE_ENV: 'production' }) }).config.gateway.port, 9004);
    assert.equal(loadConfig({ cwd: f.cwd, env: f.env({ NODE_ENV: 'production', SWITCHYARD_ENV: 'other' }) }).config.gateway.port, 8420);
  });

  test('environment file is skipped without SWITCHYARD_ENV or NODE_ENV', () => {
    const f = fixture({ environment: ['undefined', 'gateway:\n  port: 9005\n'] });
    const loaded = f.load();
    assert.equal(loaded.config.gateway.port, 8420);
    assert.deepEqual(loaded.files, []);
  });

  test('env: SWITCHYARD_GATEWAY__PORT', () => {
    const f = fixture();
    const loaded = loadConfig({ cwd: f.cwd, env: f.env({ SWITCHYARD_GATEWAY__PORT: '9006' }) });
    assert.equal(loaded.config.gateway.port, 9006);
    assert.deepEqual(loaded.origins.get('gateway.port'), { layer: 'env', source: 'SWITCHYARD_GATEWAY__PORT' });
  });

  test('flag: dotted path → value', () => {
    const f = fixture();
    const loaded = f.load({ flags: { 'gateway.port': 9007, 'worker.maxConcurrentTurns': '2' } });
    assert.equal(loaded.config.gateway.port, 9007);
    assert.equal(loaded.config.worker.maxConcurrentTurns, 2, 'string flag values are read as YAML where the schema wants a number');
    assert.deepEqual(loaded.origins.get('gateway.port'), { layer: 'flag', source: '--set gateway.port' });
  });

  test('flag sources name the flag the user typed', () => {
    const f = fixture();
    const loaded = f.load({ flags: { 'gateway.port': 9007 }, flagSources: { 'gateway.port': '--port' } });
    assert.deepEqual(loaded.origins.get('gateway.port'), { layer: 'flag', source: '--port' });
  });

  test('an empty file and a file of comments are empty layers', () => {
    const f = fixture({ user: '', project: '# nothing yet\n' });
    const loaded = f.load();
    assert.equal(loaded.config.gateway.port, 8420);
    assert.deepEqual(loaded.files, [f.userFile, f.projectFile]);
  });
});

describe('precedence', () => {
  const user = 'gateway:\n  port: 1001\n  bind: 0.0.0.0\nworker:\n  maxConcurrentTurns: 1\n';
  const project = 'gateway:\n  port: 1002\n';
  const environment = 'gateway:\n  port: 1003\n';

  test('project over user, keys the project does not set stay from user', () => {
    const f = fixture({ user, project });
    const loaded = f.load();
    assert.equal(loaded.config.gateway.port, 1002);
    assert.equal(loaded.config.gateway.bind, '0.0.0.0');
    assert.equal(loaded.origins.get('gateway.bind')?.layer, 'user');
    assert.equal(loaded.origins.get('gateway.port')?.layer, 'project');
  });

  test('environment file over project', () => {
    const f = fixture({ user, project, environment: ['test', environment] });
    const loaded = loadConfig({ cwd: f.cwd, env: f.env({ SWITCHYARD_ENV: 'test' }) });
    assert.equal(loaded.config.gateway.port, 1003);
    assert.equal(loaded.origins.get('gateway.port')?.layer, 'environment');
    assert.deepEqual(loaded.files, [f.userFile, f.projectFile, f.environmentFile]);
  });

  test('env vars over the environment file', () => {
    const f = fixture({ user, project, environment: ['test', environment] });
    const loaded = loadConfig({ cwd: f.cwd, env: f.env({ SWITCHYARD_ENV: 'test', SWITCHYARD_GATEWAY__PORT: '1004' }) });
    assert.equal(loaded.config.gateway.port, 1004);
    assert.equal(loaded.origins.get('gateway.port')?.layer, 'env');
  });

  test('flags over env vars', () => {
    const f = fixture({ user, project, environment: ['test', environment] });
    const loaded = loadConfig({
      cwd: f.cwd,
      env: f.env({ SWITCHYARD_ENV: 'test', SWITCHYARD_GATEWAY__PORT: '1004' }),
      flags: { 'gateway.port': 1005 },
    });
    assert.equal(loaded.config.gateway.port, 1005);
    assert.equal(loaded.origins.get('gateway.port')?.layer, 'flag');
    assert.equal(loaded.config.worker.maxConcurrentTurns, 1);
    assert.equal(loaded.origins.get('worker.maxConcurrentTurns')?.layer, 'user');
  });

  test('any layer over the defaults', () => {
    const f = fixture({ user: 'log:\n  level: debug\n' });
    const loaded = f.load();
    assert.equal(loaded.config.log.level, 'debug');
    assert.equal(loaded.origins.get('log.level')?.layer, 'user');
    assert.equal(loaded.origins.get('log.level')?.source, f.userFile);
  });

  test('objects merge deeply; arrays replace', () => {
    const f = fixture({
      user: 'agentDefaults:\n  allowedTools: [Read, Grep]\n  env: { A: "1", B: "2" }\n',
      project: 'agentDefaults:\n  allowedTools: [Bash]\n  env: { B: "3" }\n',
    });
    const { config, origins } = f.load();
    assert.deepEqual(config.agentDefaults.allowedTools, ['Bash']);
    assert.deepEqual(config.agentDefaults.env, { A: '1', B: '3' });
    assert.equal(origins.get('agentDefaults.env.A')?.layer, 'user');
    assert.equal(origins.get('agentDefaults.env.B')?.layer, 'project');
    assert.equal(origins.get('agentDefaults.allowedTools')?.layer, 'project');
  });

  test('an empty mapping in a higher layer keeps the lower keys; a list replaces', () => {
    const f = fixture({ user: 'agents:\n  reviewer:\n    model: opus\n' });
    const loaded = f.load({ flags: { 'agents.reviewer': {}, 'agentDefaults.allowedTools': ['X'] } });
    assert.deepEqual(loaded.config.agents.reviewer, { model: 'opus' });
    assert.deepEqual(loaded.config.agentDefaults.allowedTools, ['X']);
  });

  test('a scalar replaces a mapping, and the mapping\'s origins go with it', () => {
    const f = fixture({
      user: 'webhooks:\n  github:\n    verify: { type: github, secret: abc }\n',
      project: 'webhooks:\n  github:\n    verify: none\n',
    });
    const { config, origins } = f.load();
    assert.deepEqual(config.webhooks.github, { verify: 'none' });
    assert.equal(origins.get('webhooks.github.verify')?.layer, 'project');
    assert.equal(origins.has('webhooks.github.verify.type'), false);
  });
});

describe('SWITCHYARD_TOKEN', () => {
  test('is the default of gateway.auth.token', () => {
    const f = fixture();
    const loaded = loadConfig({ cwd: f.cwd, env: f.env({ SWITCHYARD_TOKEN: 's3cret' }) });
    assert.equal(loaded.config.gateway.auth.token, 's3cret');
    assert.deepEqual(loaded.origins.get('gateway.auth.token'), { layer: 'env', source: 'SWITCHYARD_TOKEN' });
  });

  test('loses to any layer that sets the token', () => {
    const f = fixture({ project: 'gateway:\n  auth:\n    token: from-file\n' });
    const loaded = loadConfig({ cwd: f.cwd, env: f.env({ SWITCHYARD_TOKEN: 's3cret' }) });
    assert.equal(loaded.config.gateway.auth.token, 'from-file');
    assert.equal(loaded.origins.get('gateway.auth.token')?.layer, 'project');
  });

  test('is not a config path itself, nor are SWITCHYARD_HOME / SWITCHYARD_ENV / SWITCHYARD_TEMPORAL_BIN', () => {
    const f = fixture();
    const loaded = loadConfig({ cwd: f.cwd, env: f.env({ SWITCHYARD_TEMPORAL_BIN: '/x/temporal', SWITCHYARD_ENV: 'dev' }) });
    assert.equal(loaded.config.gateway.auth.token, undefined);
  });
});

describe('agents', () => {
  test('main is always present', () => {
    const f = fixture({ project: 'agents:\n  reviewer:\n    model: opus\n' });
    const { config } = f.load();
    assert.deepEqual(Object.keys(config.agents).sort(), ['main', 'reviewer']);
    assert.deepEqual(agentIds(config), ['main', 'reviewer']);
    assert.equal(resolveAgent(config, 'main')?.model, 'sonnet');
  });

  test('agents: with nothing under it, and an agent with nothing under it', () => {
    const f = fixture({ project: 'agents:\n' });
    assert.deepEqual(f.load().config.agents, { main: {} });
    const g = fixture({ project: 'agents:\n  coder:\n' });
    const { config, origins } = g.load();
    assert.deepEqual(config.agents.coder, {});
    assert.equal(origins.get('agents.coder')?.layer, 'project');
    assert.equal(resolveAgent(config, 'coder')?.model, 'sonnet');
  });

  test('an agent merges over agentDefaults: scalars override, env merges, arrays replace, retry merges', () => {
    const f = fixture({
      user: [
        'agentDefaults:',
        '  model: opus',
        '  maxTurns: 7',
        '  allowedTools: [Read, Grep]',
        '  env: { SHARED: "1", OVERRIDDEN: "default" }',
        '  retry: { maxAttempts: 9 }',
      ].join('\n'),
      project: [
        'agents:',
        '  reviewer:',
        '    model: haiku',
        '    allowedTools: [Bash]',
        '    env: { OVERRIDDEN: "agent", OWN: "x" }',
        '    retry: { initialInterval: 5s }',
      ].join('\n'),
    });
    const { config } = f.load();
    assert.deepEqual(config.agents.reviewer, {
      model: 'haiku',
      allowedTools: ['Bash'],
      env: { OVERRIDDEN: 'agent', OWN: 'x' },
      retry: { initialInterval: '5s' },
    }, 'an override keeps only what it sets, no schema defaults');
    const reviewer = resolveAgent(config, 'reviewer');
    assert.ok(reviewer);
    assert.equal(reviewer.model, 'haiku');
    assert.equal(reviewer.maxTurns, 7, 'inherited from agentDefaults, not reset to the schema default');
    assert.deepEqual(reviewer.allowedTools, ['Bash']);
    assert.deepEqual(reviewer.env, { SHARED: '1', OVERRIDDEN: 'agent', OWN: 'x' });
    assert.deepEqual(reviewer.retry, { maxAttempts: 9, initialInterval: '5s', maximumInterval: '1m' });
    assert.equal(resolveAgent(config, 'nobody'), undefined);
  });

  test('an agent defined in one layer is extended by a higher one', () => {
    const f = fixture({ user: 'agents:\n  reviewer:\n    model: opus\n', project: 'agents:\n  reviewer:\n    cwd: ./api\n' });
    const { config, origins } = f.load();
    assert.deepEqual(config.agents.reviewer, { model: 'opus', cwd: './api' });
    assert.equal(origins.get('agents.reviewer.model')?.layer, 'user');
    assert.equal(origins.get('agents.reviewer.cwd')?.layer, 'project');
  });
});

describe('interpolation in files', () => {
  test('${VAR}, ${VAR:-default} and $${ in a config file', () => {
    const f = fixture({
      project: [
        'gateway:',
        '  auth:',
        '    token: ${MY_TOKEN}',
        '  bind: ${BIND:-127.0.0.2}',
        'agentDefaults:',
        '  appendSystemPrompt: "cost is $${PRICE}"',
        '  env:',
        '    ANTHROPIC_API_KEY: ${API_KEY}',
      ].join('\n'),
    });
    const { config } = loadConfig({ cwd: f.cwd, env: f.env({ MY_TOKEN: 'tok', API_KEY: 'sk-1' }) });
    assert.equal(config.gateway.auth.token, 'tok');
    assert.equal(config.gateway.bind, '127.0.0.2');
    assert.equal(config.agentDefaults.appendSystemPrompt, 'cost is ${PRICE}');
    assert.equal(config.agentDefaults.env.ANTHROPIC_API_KEY, 'sk-1');
  });

  test('an interpolated number field is read as a number; a string field stays a string', () => {
    const f = fixture({ project: 'gateway:\n  port: ${PORT:-8500}\nagentDefaults:\n  model: ${MODEL}\n  allowedTools: ${TOOLS}\n' });
    const { config } = loadConfig({ cwd: f.cwd, env: f.env({ MODEL: '2024', TOOLS: '[Read, Bash]' }) });
    assert.equal(config.gateway.port, 8500);
    assert.equal(config.agentDefaults.model, '2024');
    assert.deepEqual(config.agentDefaults.allowedTools, ['Read', 'Bash']);
  });

  test('interpolation does not apply to env vars or flags', () => {
    const f = fixture();
    const { config } = loadConfig({
      cwd: f.cwd,
      env: f.env({ SWITCHYARD_AGENT_DEFAULTS__MODEL: '${X}', X: 'no' }),
      flags: { 'agentDefaults.appendSystemPrompt': '${X}' },
    });
    assert.equal(config.agentDefaults.model, '${X}');
    assert.equal(config.agentDefaults.appendSystemPrompt, '${X}');
  });
});

describe('YAML features', () => {
  test('anchors, aliases and merge keys', () => {
    const f = fixture({
      project: ['x-base: &base', '  model: opus', '  maxTurns: 3', ''].join('\n'),
    });
    // x-base is not a config key: unknown keys are errors even for anchors' hosts.
    assert.throws(() => f.load(), /x-base: unknown key/);
    const g = fixture({
      project: ['agents:', '  a: &base', '    model: opus', '    maxTurns: 3', '  b:', '    <<: *base', '    model: haiku', ''].join('\n'),
    });
    const { config } = g.load();
    assert.deepEqual(config.agents.b, { model: 'haiku', maxTurns: 3 });
  });
});
