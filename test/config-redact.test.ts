import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { explainConfig, renderExplain } from '../config/explain.js';
import { loadConfig } from '../config/load.js';
import { REDACTED, isSecretPath, looksSecretKey, pinoRedactOptions, redactConfig, secretValues } from '../config/redact.js';
import { ConfigSchema } from '../config/schema.js';

const roots: string[] = [];
after(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

function setup(project: string, vars: Record<string, string> = {}, user?: string) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-redact-'));
  roots.push(root);
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  const projectFile = path.join(root, 'switchyard.yaml');
  const userFile = path.join(home, 'config.yaml');
  fs.writeFileSync(projectFile, project);
  if (user !== undefined) fs.writeFileSync(userFile, user);
  const loaded = loadConfig({ cwd: root, env: { HOME: root, SWITCHYARD_HOME: home, ...vars }, flags: { 'gateway.bind': '0.0.0.0' }, flagSources: { 'gateway.bind': '--bind' } });
  return { loaded, projectFile, userFile };
}

const PROJECT = [
  'gateway:',
  '  auth:',
  '    token: tok-AAAA',
  '  internalToken: int-BBBB',
  'agentDefaults:',
  '  env:',
  '    ANTHROPIC_API_KEY: sk-CCCC',
  '    HTTPS_PROXY: http://proxy:3128',
  'agents:',
  '  reviewer:',
  '    env:',
  '      GITHUB_TOKEN: ghp-DDDD',
  '      db_password: pw-EEEE',
  '      LOG_LEVEL: debug',
  'channels:',
  '  slack:',
  '    command: node',
  '    env:',
  '      SLACK_BOT_TOKEN: xoxb-FFFF',
  '      SLACK_CHANNEL: general',
  'webhooks:',
  '  github:',
  '    verify: { type: github, secret: whsec-GGGG }',
  '    dedupeKey: headers.x-github-delivery',
  '',
].join('\n');

describe('redactConfig', () => {
  test('secret-marked fields and secret-looking env keys are replaced, everything else kept', () => {
    const { loaded } = setup(PROJECT);
    const redacted = redactConfig(loaded.config) as any;
    assert.equal(redacted.gateway.auth.token, REDACTED);
    assert.equal(redacted.gateway.internalToken, REDACTED);
    assert.equal(redacted.agentDefaults.env.ANTHROPIC_API_KEY, REDACTED);
    assert.equal(redacted.agentDefaults.env.HTTPS_PROXY, 'http://proxy:3128');
    assert.equal(redacted.agents.reviewer.env.GITHUB_TOKEN, REDACTED);
    assert.equal(redacted.agents.reviewer.env.db_password, REDACTED);
    assert.equal(redacted.agents.reviewer.env.LOG_LEVEL, 'debug');
    assert.equal(redacted.channels.slack.env.SLACK_BOT_TOKEN, REDACTED);
    assert.equal(redacted.channels.slack.env.SLACK_CHANNEL, 'general');
    assert.equal(redacted.webhooks.github.verify.secret, REDACTED);
    assert.equal(redacted.webhooks.github.verify.type, 'github');
    assert.equal(redacted.webhooks.github.dedupeKey, 'headers.x-github-delivery');
    assert.equal(redacted.gateway.port, 8420);
    const text = JSON.stringify(redacted);
    for (const secret of ['tok-AAAA', 'int-BBBB', 'sk-CCCC', 'ghp-DDDD', 'pw-EEEE', 'xoxb-FFFF', 'whsec-GGGG']) assert.doesNotMatch(text, new RegExp(secret));
    assert.equal(loaded.config.gateway.auth.token, 'tok-AAAA', 'the config itself is not modified');
  });

  test('unset secrets stay unset', () => {
    const redacted = redactConfig(ConfigSchema.parse({})) as any;
    assert.equal(redacted.gateway.auth.token, undefined);
    assert.equal('internalToken' in redacted.gateway, false);
  });

  test('secretValues lists every secret value, longest first', () => {
    const { loaded } = setup(PROJECT);
    assert.deepEqual(new Set(secretValues(loaded.config)), new Set(['tok-AAAA', 'int-BBBB', 'sk-CCCC', 'ghp-DDDD', 'pw-EEEE', 'xoxb-FFFF', 'whsec-GGGG']));
    const values = secretValues(loaded.config);
    assert.ok(values.every((value, index) => index === 0 || values[index - 1]!.length >= value.length));
  });

  test('pino redact paths cover the secrets', () => {
    const { loaded } = setup(PROJECT);
    const { paths, censor } = pinoRedactOptions(loaded.config);
    assert.equal(censor, REDACTED);
    for (const expected of ['config.gateway.auth.token', 'config.gateway.internalToken', 'config.agentDefaults.env.ANTHROPIC_API_KEY', 'config.agents.reviewer.env.GITHUB_TOKEN', 'config.webhooks.github.verify.secret']) {
      assert.ok(paths.includes(expected), expected);
    }
  });

  test('looksSecretKey and isSecretPath', () => {
    for (const key of ['ANTHROPIC_API_KEY', 'GITHUB_TOKEN', 'password', 'DB_PASSWD', 'client_secret', 'AWS_CREDENTIALS', 'authorization', 'Auth']) assert.equal(looksSecretKey(key), true, key);
    for (const key of ['HTTPS_PROXY', 'LOG_LEVEL', 'PATH', 'dedupeKey', 'sessionKey']) assert.equal(looksSecretKey(key), false, key);
    assert.equal(isSecretPath(['gateway', 'auth', 'token']), true);
    assert.equal(isSecretPath(['gateway', 'internalToken']), true);
    assert.equal(isSecretPath(['agents', 'x', 'env', 'MY_API_KEY']), true);
    assert.equal(isSecretPath(['agents', 'x', 'env', 'HOME']), false);
    assert.equal(isSecretPath(['agents', 'auth-bot', 'model']), false, 'agent names are names, not secrets');
    assert.equal(isSecretPath(['gateway', 'port']), false);
  });
});

describe('explainConfig', () => {
  test('reports value, layer and source per key, with secrets redacted', () => {
    const { loaded, projectFile, userFile } = setup(PROJECT, { SWITCHYARD_WORKER__MAX_CONCURRENT_TURNS: '6' }, 'log:\n  level: warn\n');
    const entries = explainConfig(loaded);
    const byPath = new Map(entries.map((entry) => [entry.path, entry]));
    assert.deepEqual(byPath.get('gateway.port'), { path: 'gateway.port', value: 8420, layer: 'default', source: 'built-in' });
    assert.deepEqual(byPath.get('gateway.bind'), { path: 'gateway.bind', value: '0.0.0.0', layer: 'flag', source: '--bind' });
    assert.deepEqual(byPath.get('log.level'), { path: 'log.level', value: 'warn', layer: 'user', source: userFile });
    assert.deepEqual(byPath.get('gateway.auth.token'), { path: 'gateway.auth.token', value: REDACTED, layer: 'project', source: projectFile });
    assert.deepEqual(byPath.get('worker.maxConcurrentTurns'), { path: 'worker.maxConcurrentTurns', value: 6, layer: 'env', source: 'SWITCHYARD_WORKER__MAX_CONCURRENT_TURNS' });
    assert.deepEqual(byPath.get('agentDefaults.env.ANTHROPIC_API_KEY')?.value, REDACTED);
    assert.deepEqual(byPath.get('agentDefaults.allowedTools'), { path: 'agentDefaults.allowedTools', value: [], layer: 'default', source: 'built-in' });
    assert.deepEqual(byPath.get('agents.main'), { path: 'agents.main', value: {}, layer: 'default', source: 'built-in' });
    assert.equal(entries.length, loaded.origins.size);
  });

  test('the text table is aligned and holds no secret', () => {
    const { loaded } = setup(PROJECT);
    const text = renderExplain(explainConfig(loaded));
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0]!, /^PATH\s+VALUE\s+LAYER\s+SOURCE$/);
    const valueColumn = lines[0]!.indexOf('VALUE');
    const layerColumn = lines[0]!.indexOf('LAYER');
    for (const line of lines.slice(1)) {
      assert.equal(line[valueColumn - 1], ' ', line);
      assert.match(line.slice(layerColumn), /^(default|user|project|environment|env|flag) /, line);
    }
    assert.match(text, /\ngateway\.port +8420 +default +built-in\n/);
    assert.match(text, /\ngateway\.auth\.token +\[redacted\] +project +\S+switchyard\.yaml\n/);
    assert.doesNotMatch(text, /tok-AAAA|sk-CCCC|whsec-GGGG/);
  });
});
