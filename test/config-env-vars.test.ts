import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { envVarLayer, envVarName, envVarPath, isConfigEnvVar } from '../config/env-vars.js';
import { loadConfig } from '../config/load.js';

/** Loads with only these env vars, in an empty temp home and project. */
function loadWith(vars: Record<string, string>, project?: string) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-env-'));
  try {
    if (project !== undefined) fs.writeFileSync(path.join(root, 'switchyard.yaml'), project);
    return loadConfig({ cwd: root, env: { HOME: root, SWITCHYARD_HOME: path.join(root, 'home'), ...vars } });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

describe('which variables are config paths', () => {
  test('only SWITCHYARD_<SECTION>__<KEY>...', () => {
    assert.equal(isConfigEnvVar('SWITCHYARD_GATEWAY__PORT'), true);
    assert.equal(isConfigEnvVar('SWITCHYARD_AGENTS__REVIEWER__MODEL'), true);
    for (const name of ['SWITCHYARD_HOME', 'SWITCHYARD_TOKEN', 'SWITCHYARD_ENV', 'SWITCHYARD_TEMPORAL_BIN', 'GATEWAY__PORT', 'XSWITCHYARD_GATEWAY__PORT', 'switchyard_gateway__port']) {
      assert.equal(isConfigEnvVar(name), false, name);
    }
  });

  test('single-underscore SWITCHYARD_ vars are ignored by the loader', () => {
    const { config } = loadWith({ SWITCHYARD_TEMPORAL_BIN: '/opt/temporal', SWITCHYARD_SOMETHING_ELSE: 'x' });
    assert.equal(config.temporal.address, 'embedded');
  });
});

describe('path mapping', () => {
  test('segments map to camelCase keys case-insensitively', () => {
    assert.deepEqual(envVarPath('SWITCHYARD_WORKER__MAX_CONCURRENT_TURNS').path, ['worker', 'maxConcurrentTurns']);
    assert.deepEqual(envVarPath('SWITCHYARD_WORKER__MAXCONCURRENTTURNS').path, ['worker', 'maxConcurrentTurns']);
    assert.deepEqual(envVarPath('SWITCHYARD_GATEWAY__AUTH__TOKEN').path, ['gateway', 'auth', 'token']);
    assert.deepEqual(envVarPath('SWITCHYARD_AGENT_DEFAULTS__TURN_TIMEOUT').path, ['agentDefaults', 'turnTimeout']);
    assert.deepEqual(envVarPath('SWITCHYARD_AGENTDEFAULTS__RETRY__MAX_ATTEMPTS').path, ['agentDefaults', 'retry', 'maxAttempts']);
  });

  test('unknown record keys are lowercased; known schema keys below them are camelCased', () => {
    assert.deepEqual(envVarPath('SWITCHYARD_AGENTS__REVIEWER__MODEL').path, ['agents', 'reviewer', 'model']);
    assert.deepEqual(envVarPath('SWITCHYARD_AGENTS__CODE_REVIEWER__PERMISSION_MODE').path, ['agents', 'code_reviewer', 'permissionMode']);
  });

  test('record keys match names that lower layers already use', () => {
    assert.deepEqual(envVarPath('SWITCHYARD_AGENTS__CODE_REVIEWER__MODEL', [{ agents: { 'Code-Reviewer': {} } }]).path, ['agents', 'Code-Reviewer', 'model']);
  });

  test('keys of env maps are kept verbatim', () => {
    assert.deepEqual(envVarPath('SWITCHYARD_AGENTDEFAULTS__ENV__ANTHROPIC_API_KEY').path, ['agentDefaults', 'env', 'ANTHROPIC_API_KEY']);
    assert.deepEqual(envVarPath('SWITCHYARD_AGENTS__MAIN__ENV__HTTPS_PROXY').path, ['agents', 'main', 'env', 'HTTPS_PROXY']);
  });

  test('untyped sections get camelCased keys', () => {
    assert.deepEqual(envVarPath('SWITCHYARD_WEBHOOKS__GITHUB__DEDUPE_KEY').path, ['webhooks', 'github', 'dedupeKey']);
  });

  test('envVarName is the inverse for schema keys', () => {
    assert.equal(envVarName(['worker', 'maxConcurrentTurns']), 'SWITCHYARD_WORKER__MAX_CONCURRENT_TURNS');
    assert.equal(envVarName(['gateway', 'auth', 'token']), 'SWITCHYARD_GATEWAY__AUTH__TOKEN');
    for (const at of [['worker', 'maxConcurrentTurns'], ['agentDefaults', 'retry', 'initialInterval'], ['temporal', 'devServerPort']]) {
      assert.deepEqual(envVarPath(envVarName(at)).path, at);
    }
  });
});

describe('values', () => {
  test('YAML scalars and flow collections', () => {
    const { tree } = envVarLayer({
      SWITCHYARD_GATEWAY__PORT: '9000',
      SWITCHYARD_WEBHOOKS__GH__ENABLED: 'true',
      SWITCHYARD_AGENTDEFAULTS__ALLOWED_TOOLS: '[Read, Grep]',
      SWITCHYARD_AGENTDEFAULTS__MAX_BUDGET_USD: '1.5',
      SWITCHYARD_CRON__NIGHTLY__SCHEDULE: '{cron: "0 3 * * *"}',
    });
    assert.deepEqual(tree, {
      gateway: { port: 9000 },
      webhooks: { gh: { enabled: true } },
      agentDefaults: { allowedTools: ['Read', 'Grep'], maxBudgetUsd: 1.5 },
      cron: { nightly: { schedule: { cron: '0 3 * * *' } } },
    });
  });

  test('string fields get the raw text', () => {
    const { tree } = envVarLayer({
      SWITCHYARD_AGENTDEFAULTS__MODEL: '2024',
      SWITCHYARD_GATEWAY__AUTH__TOKEN: '12345',
      SWITCHYARD_AGENTDEFAULTS__ENV__FLAG: 'true',
      SWITCHYARD_AGENTDEFAULTS__APPEND_SYSTEM_PROMPT: '[not a list]',
    });
    assert.deepEqual(tree, {
      agentDefaults: { model: '2024', env: { FLAG: 'true' }, appendSystemPrompt: '[not a list]' },
      gateway: { auth: { token: '12345' } },
    });
  });

  test('more specific variables win', () => {
    const { config } = loadWith({
      SWITCHYARD_GATEWAY__AUTH: '{token: broad}',
      SWITCHYARD_GATEWAY__AUTH__TOKEN: 'specific',
    });
    assert.equal(config.gateway.auth.token, 'specific');
  });

  test('end to end through loadConfig', () => {
    const { config, origins } = loadWith(
      {
        SWITCHYARD_WORKER__MAX_CONCURRENT_TURNS: '8',
        SWITCHYARD_AGENTS__REVIEWER__MODEL: 'opus',
        SWITCHYARD_AGENTS__REVIEWER__ALLOWED_TOOLS: '[Read]',
        SWITCHYARD_TEMPORAL__ADDRESS: 'temporal.internal:7233',
        SWITCHYARD_LOG__LEVEL: 'debug',
        SWITCHYARD_AGENTS__CODER: '',
      },
      'agents:\n  Reviewer-Bot: {}\n',
    );
    assert.equal(config.worker.maxConcurrentTurns, 8);
    assert.deepEqual(config.agents.reviewer, { model: 'opus', allowedTools: ['Read'] });
    assert.deepEqual(config.agents.coder, {}, 'an empty value defines an agent with the defaults');
    assert.equal(config.temporal.address, 'temporal.internal:7233');
    assert.equal(config.log.level, 'debug');
    assert.deepEqual(origins.get('agents.reviewer.model'), { layer: 'env', source: 'SWITCHYARD_AGENTS__REVIEWER__MODEL' });
    assert.deepEqual(Object.keys(config.agents).sort(), ['Reviewer-Bot', 'coder', 'main', 'reviewer']);
  });
});
