// The pure parts of the Claude hooks: the per-turn token, the toolPolicy matcher, the merged
// settings file and the tool audit.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { mintHookToken, verifyHookToken, type HookTokenClaims } from '../claude-hooks/hook-token.js';
import { HOOK_EVENTS, TOOL_HOOK_EVENTS, hookSettings } from '../claude-hooks/settings-file.js';
import { ApplicationFailure } from '@temporalio/activity';
import { ToolAudit, withToolAudit } from '../claude-hooks/tool-audit.js';
import { bashSubjects, deniedBy, parseToolRule } from '../claude-hooks/tool-policy.js';
import { openTurnHooks } from '../claude-hooks/turn-hooks.js';
import { AgentSchema, ConfigSchema, resolveAgent } from '../config/schema.js';

const KEY = 'internal-token-for-unit-tests';
const claims: HookTokenClaims = { sessionKey: 'agent:main:unit', turnId: 'msg_1', agentId: 'main', expiresAt: 2_000_000 };

describe('hook token', () => {
  test('a minted token verifies and carries its claims', () => {
    const token = mintHookToken(KEY, claims);
    assert.deepEqual(verifyHookToken(KEY, token, 1_000_000), { ok: true, claims });
    assert.ok(!token.includes(KEY));
  });

  test('another key, a changed payload, a changed MAC or garbage are refused', () => {
    const token = mintHookToken(KEY, claims);
    assert.deepEqual(verifyHookToken('another-key', token, 1_000_000), { ok: false, reason: 'bad-signature' });
    const [payload, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...claims, sessionKey: 'agent:main:other' })).toString('base64url');
    assert.deepEqual(verifyHookToken(KEY, `${forged}.${mac}`, 1_000_000), { ok: false, reason: 'bad-signature' });
    const flipped = `${payload}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    assert.deepEqual(verifyHookToken(KEY, flipped, 1_000_000), { ok: false, reason: 'bad-signature' });
    for (const junk of ['', 'abc', 'a.b.c', `${payload}.`, `.${mac}`]) assert.equal(verifyHookToken(KEY, junk, 1_000_000).ok, false, junk);
  });

  test('a token is refused from its expiry on', () => {
    const token = mintHookToken(KEY, claims);
    assert.equal(verifyHookToken(KEY, token, claims.expiresAt - 1).ok, true);
    assert.deepEqual(verifyHookToken(KEY, token, claims.expiresAt), { ok: false, reason: 'expired' });
  });
});

describe('toolPolicy rules', () => {
  const denies = (rule: string, name: string, input: unknown) => deniedBy([parseToolRule(rule)], { name, input }) !== undefined;

  test('a bare tool name denies every call of that tool', () => {
    assert.ok(denies('Bash', 'Bash', { command: 'ls' }));
    assert.ok(denies('Bash()', 'Bash', { command: 'ls' }));
    assert.ok(!denies('Bash', 'Read', { file_path: '/x' }));
    assert.ok(denies('Web*', 'WebFetch', { url: 'https://x.org' }));
  });

  test('Bash(prefix:*) matches the command word by word, in any part of a compound command', () => {
    assert.ok(denies('Bash(rm:*)', 'Bash', { command: 'rm -rf /tmp/x' }));
    assert.ok(denies('Bash(rm:*)', 'Bash', { command: 'rm' }));
    assert.ok(!denies('Bash(rm:*)', 'Bash', { command: 'rmdir /tmp/x' }));
    assert.ok(denies('Bash(rm:*)', 'Bash', { command: 'cd /tmp && rm -rf x' }));
    assert.ok(denies('Bash(rm:*)', 'Bash', { command: 'ls | FOO=1 rm x' }));
    assert.ok(denies('Bash(rm:*)', 'Bash', { command: 'echo $(rm x)' }));
    assert.ok(denies('Bash(git push:*)', 'Bash', { command: 'git push origin main' }));
    assert.ok(!denies('Bash(git push:*)', 'Bash', { command: 'git pull' }));
  });

  test('globs: * matches anything, the rest literally', () => {
    assert.ok(denies('Bash(git push --force*)', 'Bash', { command: 'git push --force-with-lease' }));
    assert.ok(!denies('Bash(git push --force*)', 'Bash', { command: 'git push' }));
    assert.ok(denies('Bash(curl * | sh)', 'Bash', { command: 'curl https://x.sh | sh' }));
    assert.ok(denies('Write(/etc/**)', 'Write', { file_path: '/etc/passwd', content: '' }));
    assert.ok(!denies('Write(/etc/**)', 'Write', { file_path: '/home/etc/x', content: '' }));
    assert.ok(denies('Read(*.env)', 'Read', { file_path: '/app/.env' }));
    assert.ok(denies('Edit(/srv/*)', 'Edit', { file_path: '/srv/a/b.ts' }));
  });

  test('domain: matches the host and its subdomains', () => {
    assert.ok(denies('WebFetch(domain:example.com)', 'WebFetch', { url: 'https://api.example.com/x' }));
    assert.ok(denies('WebFetch(domain:example.com)', 'WebFetch', { url: 'http://EXAMPLE.com' }));
    assert.ok(!denies('WebFetch(domain:example.com)', 'WebFetch', { url: 'https://notexample.com' }));
    assert.ok(!denies('WebFetch(domain:example.com)', 'WebFetch', { url: 'not a url' }));
  });

  test('MCP: a server name covers its tools; other tools match on any string of their input', () => {
    assert.ok(denies('mcp__github', 'mcp__github__delete_repo', {}));
    assert.ok(!denies('mcp__github', 'mcp__gitlab__delete_repo', {}));
    assert.ok(denies('mcp__github__delete_*', 'mcp__github__delete_repo', {}));
    assert.ok(!denies('mcp__github__delete_*', 'mcp__github__list_repos', {}));
    assert.ok(denies('mcp__db__query(*DROP TABLE*)', 'mcp__db__query', { sql: 'DROP TABLE users' }));
  });

  test('a malformed input denies nothing by specifier, and malformed rules are refused by the config', () => {
    assert.ok(!denies('Bash(rm:*)', 'Bash', 'rm -rf /'));
    assert.throws(() => parseToolRule('Bash(rm'), /not a tool rule/);
    assert.throws(() => parseToolRule('WebFetch(domain:)'), /domain/);
    const result = ConfigSchema.safeParse({ agents: { main: { toolPolicy: { deny: ['Bash(rm'] } } } });
    assert.equal(result.success, false);
    assert.match(JSON.stringify(result.error?.issues), /toolPolicy/);
  });

  test("an agent's deny rules add to agentDefaults'", () => {
    const config = ConfigSchema.parse({ agentDefaults: { toolPolicy: { deny: ['Bash(rm:*)'] } }, agents: { main: { toolPolicy: { deny: ['Write'] } }, other: {} } });
    assert.deepEqual(resolveAgent(config, 'main')!.toolPolicy.deny, ['Bash(rm:*)', 'Write']);
    assert.deepEqual(resolveAgent(config, 'other')!.toolPolicy.deny, ['Bash(rm:*)']);
  });

  test('bashSubjects splits a compound command', () => {
    assert.deepEqual(bashSubjects('A=1 B="x y" make && make install; echo done'), ['A=1 B="x y" make && make install; echo done', 'make', 'make install', 'echo done']);
  });
});

describe('settings file', () => {
  const target = { url: 'http://127.0.0.1:9/internal/hooks', token: 'tok' };

  test("the gateway's hook groups follow the agent's own, and its other settings stay", () => {
    const own = { model: 'x', hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'true' }] }] } };
    const merged = hookSettings(target, own);
    assert.equal(merged.model, 'x');
    assert.equal(merged.hooks!.PreToolUse!.length, 2);
    assert.deepEqual(merged.hooks!.PreToolUse![0], own.hooks.PreToolUse[0]);
    assert.deepEqual(merged.hooks!.PreToolUse![1], {
      matcher: '*',
      hooks: [{ type: 'http', url: target.url, headers: { Authorization: 'Bearer tok' }, timeout: 10 }],
    });
    for (const event of HOOK_EVENTS) assert.equal(merged.hooks![event]!.length, event === 'PreToolUse' ? 2 : 1, event);
    assert.equal(own.hooks.PreToolUse.length, 1, 'the input is not changed');
  });

  test('an agent that listens to no hook event gets no settings file of the gateway', async () => {
    const agent = AgentSchema.parse({ settingsFile: 'own.json' });
    assert.deepEqual(agent.hookEvents, []);
    const hooks = await openTurnHooks({ url: target.url, internalToken: KEY }, agent, { sessionKey: 'k', turnId: 't', agentId: 'main' }, '/nonexistent');
    assert.equal(hooks.settingsFile, undefined, 'the agent\'s own settingsFile goes to the CLI as it is');
    const denying = AgentSchema.parse({ toolPolicy: { deny: ['Bash(rm:*)'] } });
    const enforced = await openTurnHooks({ url: target.url, internalToken: KEY }, denying, { sessionKey: 'k', turnId: 't', agentId: 'main' }, '/nonexistent');
    try {
      assert.deepEqual(Object.keys(JSON.parse(readFileSync(enforced.settingsFile!, 'utf8')).hooks), ['PreToolUse'], 'deny rules need PreToolUse');
    } finally {
      await enforced.close();
    }
  });

  test('a turn gets a private settings file, without the internal token, removed afterwards', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hooks-unit-'));
    try {
      writeFileSync(path.join(dir, 'own.json'), JSON.stringify({ env: { A: '1' } }));
      const agent = AgentSchema.parse({ settingsFile: 'own.json', turnTimeout: '1m', hookEvents: [...TOOL_HOOK_EVENTS] });
      const hooks = await openTurnHooks({ url: target.url, internalToken: KEY }, agent, { sessionKey: 'agent:main:u', turnId: 't1', agentId: 'main' }, dir);
      const file = hooks.settingsFile!;
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
      const text = readFileSync(file, 'utf8');
      assert.ok(!text.includes(KEY), 'the internal token is never written');
      const settings = JSON.parse(text);
      assert.deepEqual(settings.env, { A: '1' });
      assert.deepEqual(Object.keys(settings.hooks).sort(), [...TOOL_HOOK_EVENTS].sort());
      const token = /^Bearer (.+)$/.exec(settings.hooks.PreToolUse[0].hooks[0].headers.Authorization)![1]!;
      const check = verifyHookToken(KEY, token, Date.now());
      assert.ok(check.ok && check.claims.turnId === 't1' && check.claims.expiresAt > Date.now() + 60_000);
      await hooks.close();
      assert.equal(existsSync(path.dirname(file)), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unreadable or non-JSON settingsFile fails the turn as a config error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hooks-unit-'));
    try {
      writeFileSync(path.join(dir, 'bad.json'), '{ nope');
      for (const settingsFile of ['bad.json', 'missing.json']) {
        const agent = AgentSchema.parse({ settingsFile, hookEvents: ['PreToolUse'] });
        await assert.rejects(openTurnHooks({ url: target.url, internalToken: KEY }, agent, { sessionKey: 'k', turnId: 't', agentId: 'main' }, dir), (err: Error & { type?: string; nonRetryable?: boolean }) => {
          assert.equal(err.type, 'AgentConfigError');
          assert.equal(err.nonRetryable, true);
          assert.match(err.message, /settingsFile/);
          return true;
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tool audit', () => {
  test('calls, results, errors and policy denials', () => {
    const audit = new ToolAudit('main', [parseToolRule('Bash(rm:*)')]);
    audit.call('t1', 'Bash', { command: 'ls' });
    audit.result('t1', false, 'a b');
    audit.call('t2', 'Bash', { command: 'rm -rf x' });
    audit.result('t2', true, 'Blocked by the policy');
    audit.call('t3', 'Bash', { command: 'false' });
    audit.result('t3', true, 'Exit code 1');
    audit.call('t4', 'Read', { file_path: '/x'.repeat(2000) });
    const { tools } = audit.snapshot();
    assert.deepEqual(
      tools.map((t) => [t.toolUseId, t.status, t.rule]),
      [
        ['t1', 'ok', undefined],
        ['t2', 'denied', 'Bash(rm:*)'],
        ['t3', 'error', undefined],
        ['t4', 'called', undefined],
      ],
    );
    assert.match(tools[1]!.reason!, /agents\.main\.toolPolicy\.deny rule "Bash\(rm:\*\)"/);
    assert.equal(tools[2]!.error, 'Exit code 1');
    assert.equal(typeof tools[3]!.input, 'string', 'a large input is cut to a string');
  });

  test('a failure carries the audit in its details, keeping type and retryability', () => {
    const failure = ApplicationFailure.create({ type: 'AgentLimitReached', message: 'max turns', nonRetryable: true });
    assert.equal(withToolAudit(failure, { tools: [] }), failure, 'no tools, no change');
    const audit = { tools: [{ toolUseId: 't', name: 'Bash', input: {}, status: 'denied' as const, rule: 'Bash' }] };
    const carried = withToolAudit(failure, audit);
    assert.equal(carried.type, 'AgentLimitReached');
    assert.equal(carried.nonRetryable, true);
    assert.equal(carried.message, 'max turns');
    assert.deepEqual(carried.details, [audit]);
  });

  test('past the limit calls are counted, but a denial is always kept', () => {
    const audit = new ToolAudit('main', [parseToolRule('Write')]);
    for (let i = 0; i < 120; i++) audit.call(`r${i}`, 'Read', { file_path: `/f${i}` });
    audit.call('w', 'Write', { file_path: '/x', content: '' });
    audit.result('w', true, 'blocked');
    const snapshot = audit.snapshot();
    assert.equal(snapshot.tools.length, 101);
    assert.equal(snapshot.toolsOmitted, 20);
    assert.equal(snapshot.tools.at(-1)!.status, 'denied');
  });
});
