// Cron jobs without Temporal: validation of expressions, zones and times (config errors
// with precise paths), and the mapping of a job to a Temporal Schedule.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CronJobSchema } from '../config/cron-schema.js';
import { isConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { ConfigSchema } from '../config/schema.js';
import {
  OVERLAP_POLICIES,
  normalizeJob,
  oneShotStart,
  resolveTarget,
  scheduleOptions,
  scheduleUpdate,
  specHash,
} from '../cron/spec.js';
import { OVERLAP_MODES, type CronJob } from '../cron/types.js';
import { atProblem, cronExpressionProblem, isoTimeProblem, resolveAt, timezoneProblem } from '../cron/validate.js';

const roots: string[] = [];
after(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

/** The message loadConfig gives for a project file, which must be a config error (exit 78). */
function configError(yaml: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-cron-spec-'));
  roots.push(root);
  fs.writeFileSync(path.join(root, 'switchyard.yaml'), yaml);
  try {
    loadConfig({ cwd: root, env: { HOME: root, SWITCHYARD_HOME: path.join(root, 'home') } });
  } catch (error) {
    assert.ok(isConfigError(error), `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.exitCode, 78);
    return error.message;
  }
  assert.fail('loadConfig should have thrown');
}

const job = (input: Record<string, unknown>): CronJob => CronJobSchema.parse({ prompt: 'report', ...input }) as CronJob;

describe('cron expressions, as Temporal reads them', () => {
  test('accepted: 5, 6 (year) and 7 (second … year) fields, names, steps, lists, shorthands', () => {
    for (const expression of [
      '0 9 * * MON-FRI',
      '*/5 * * * *',
      '0 12 * * MON-WED,FRI',
      '0 0 1 1 * 2030',
      '30 0 9 * * * *',
      '0 9 * JAN-MAR *',
      '0 0 * * 7',
      '5/10 * * * *',
      '0 9 * * mo',
      '0 0 1-31/2 * *',
      '@daily',
      '@hourly',
      '  0 9 * * *  ',
    ]) {
      assert.equal(cronExpressionProblem(expression), undefined, expression);
    }
  });

  test('refused, with the field and the reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /expected a cron expression/],
      ['* * * *', /expected 5 fields .* got 4/],
      ['0 0 0 0 0 0 0 0', /got 8/],
      ['60 * * * *', /^field 1 \(minute\) "60": 60 is out of range 0-59$/],
      ['0 24 * * *', /field 2 \(hour\) "24": 24 is out of range 0-23/],
      ['0 0 0 * *', /field 3 \(day of month\) "0": 0 is out of range 1-31/],
      ['0 0 * 13 *', /field 4 \(month\) "13"/],
      ['0 0 * * 8', /field 5 \(day of week\) "8": 8 is out of range 0-7/],
      ['0 0 * JA *', /field 4 \(month\) "JA": "JA" is not a number 1-12 or a name such as FEB/],
      ['*/0 * * * *', /step "0" is not a whole number of at least 1/],
      ['5-1 * * * *', /range "5-1" ends before it starts/],
      ['1,,2 * * * *', /empty list item/],
      ['0 0 * * * 1999', /field 6 \(year\) "1999": 1999 is out of range 2000-2100/],
      ['TZ=Europe/Paris 0 9 * * *', /schedule\.timezone/],
      ['@every 5m', /schedule\.every/],
      ['@fortnightly', /unknown shorthand/],
      ['0 9 * * * # nine', /comments/],
    ];
    for (const [expression, expected] of cases) assert.match(cronExpressionProblem(expression) ?? 'accepted', expected, expression);
  });
});

describe('time zones and times', () => {
  test('IANA names are accepted; offsets, Local and unknown names are not', () => {
    for (const zone of ['UTC', 'Europe/Paris', 'America/New_York', 'US/Pacific', 'Asia/Kolkata']) assert.equal(timezoneProblem(zone), undefined, zone);
    assert.match(timezoneProblem('Mars/Olympus_Mons')!, /unknown time zone "Mars\/Olympus_Mons"/);
    assert.match(timezoneProblem('+01:00')!, /not an IANA time zone name/);
    assert.match(timezoneProblem('Local')!, /not an IANA time zone name/);
  });

  test('ISO times need an offset; at takes an ISO time or a delay', () => {
    assert.equal(isoTimeProblem('2030-01-31T09:00:00Z'), undefined);
    assert.equal(isoTimeProblem('2030-01-31T09:00:00.250+01:00'), undefined);
    assert.ok(isoTimeProblem('2030-01-31'));
    assert.ok(isoTimeProblem('2030-01-31T09:00:00'));
    assert.equal(atProblem('20m'), undefined);
    assert.ok(atProblem('tomorrow'));
    assert.equal(resolveAt('20m', 1_000_000), 1_000_000 + 20 * 60_000);
    assert.equal(resolveAt('2030-01-31T09:00:00Z', 0), Date.parse('2030-01-31T09:00:00Z'));
  });
});

describe('config: cron.<name> is validated before anything is created (exit 78, precise path)', () => {
  test('a valid job gets its defaults', () => {
    const config = ConfigSchema.parse({ cron: { nightly: { schedule: { cron: '0 3 * * *', timezone: 'Europe/Paris' }, prompt: 'summarize the day' } } });
    assert.deepEqual(config.cron.nightly, {
      schedule: { cron: '0 3 * * *', timezone: 'Europe/Paris' },
      prompt: 'summarize the day',
      overlap: 'skip',
      catchupWindow: '1h',
      pauseOnFailure: false,
      paused: false,
      timeout: '15m',
    });
  });

  test('a bad expression names the file, the path and the field', () => {
    const message = configError('cron:\n  nightly:\n    schedule: { cron: "0 25 * * *" }\n    prompt: hi\n');
    assert.match(message, /switchyard\.yaml: cron\.nightly\.schedule\.cron: field 2 \(hour\) "25": 25 is out of range 0-23$/);
  });

  test('an unknown time zone', () => {
    assert.match(configError('cron:\n  n:\n    schedule: { cron: "0 9 * * *", timezone: Europe/Pariss }\n    prompt: hi\n'), /cron\.n\.schedule\.timezone: unknown time zone "Europe\/Pariss"/);
  });

  test('exactly one of cron, every, at; modifiers only where they apply', () => {
    assert.match(configError('cron:\n  n:\n    schedule: {}\n    prompt: hi\n'), /cron\.n\.schedule: expected one of cron, every or at/);
    assert.match(configError('cron:\n  n:\n    schedule: { cron: "@daily", every: 1h }\n    prompt: hi\n'), /cron\.n\.schedule: expected only one of cron, every or at, got cron and every/);
    assert.match(configError('cron:\n  n:\n    schedule: { every: 1h, timezone: UTC }\n    prompt: hi\n'), /cron\.n\.schedule\.timezone: only applies to cron/);
    assert.match(configError('cron:\n  n:\n    schedule: { every: 1h, offset: 2h }\n    prompt: hi\n'), /cron\.n\.schedule\.offset: must be shorter than every/);
    assert.match(configError('cron:\n  n:\n    schedule: { every: 1500ms }\n    prompt: hi\n'), /cron\.n\.schedule\.every: every must be a whole number of seconds/);
    assert.match(configError('cron:\n  n:\n    schedule: { at: 20m, jitter: 1m }\n    prompt: hi\n'), /cron\.n\.schedule\.jitter: does not apply to a one-shot/);
    assert.match(
      configError('cron:\n  n:\n    schedule: { every: 1h, startAt: "2030-01-02T00:00:00Z", endAt: "2030-01-01T00:00:00Z" }\n    prompt: hi\n'),
      /cron\.n\.schedule\.endAt: must be after startAt/,
    );
  });

  test('overlap, catch-up window, agent, session and delivery', () => {
    assert.match(configError('cron:\n  n:\n    schedule: { every: 1h }\n    prompt: hi\n    overlap: queue\n'), /cron\.n\.overlap: expected one of skip, bufferOne, bufferAll, cancelOther, terminateOther, allowAll, got "queue"$/);
    assert.match(configError('cron:\n  n:\n    schedule: { every: 1h }\n    prompt: hi\n    catchupWindow: 5s\n'), /cron\.n\.catchupWindow: must be at least 10s/);
    assert.match(configError('cron:\n  n:\n    schedule: { every: 1h }\n    prompt: hi\n    agent: ghost\n'), /cron\.n\.agent: unknown agent "ghost"/);
    assert.match(configError('cron:\n  n:\n    schedule: { every: 1h }\n    prompt: hi\n    session: "agent:ghost:main"\n'), /cron\.n\.session: unknown agent "ghost"/);
    assert.match(
      configError('agents: { main: {}, other: {} }\ncron:\n  n:\n    schedule: { every: 1h }\n    prompt: hi\n    agent: main\n    session: "agent:other:x"\n'),
      /cron\.n\.session: the session key names agent "other" but agent is "main"/,
    );
    assert.match(configError('cron:\n  n:\n    schedule: { every: 1h }\n    prompt: hi\n    deliver: { url: "https://example.com/hook" }\n'), /cron\.n\.deliver\.url: needs gateway\.deliverSecret/);
    assert.match(configError('cron:\n  n:\n    schedule: { every: 1h }\n    prompt: hi\n    deliver: { channel: slack }\n'), /cron\.n\.deliver\.channel: is reserved for channel adapters and not active yet/);
    assert.match(configError('cron:\n  n:\n    schedule: { every: 1h }\n'), /cron\.n\.prompt/);
    assert.match(configError('cron:\n  n:\n    schedule: { every: 1h }\n    prompt: hi\n    colour: red\n'), /cron\.n\.colour: unknown key/);
  });
});

describe('mapping a job to a Temporal Schedule', () => {
  test('cron with a time zone, jitter, bounds and policies', () => {
    const options = scheduleOptions(
      'nightly',
      job({
        schedule: { cron: '0 3 * * MON-FRI', timezone: 'Europe/Paris', jitter: '30s', startAt: '2030-01-01T00:00:00Z', endAt: '2031-01-01T00:00:00Z' },
        overlap: 'bufferAll',
        catchupWindow: '10m',
        pauseOnFailure: true,
        timeout: '5m',
      }),
      'config',
    );
    assert.equal(options.scheduleId, 'cron:nightly');
    assert.deepEqual(options.spec, {
      cronExpressions: ['0 3 * * MON-FRI'],
      timezone: 'Europe/Paris',
      jitter: 30_000,
      startAt: new Date('2030-01-01T00:00:00Z'),
      endAt: new Date('2031-01-01T00:00:00Z'),
    });
    assert.deepEqual(options.policies, { overlap: 'BUFFER_ALL', catchupWindow: 600_000, pauseOnFailure: true });
    assert.deepEqual(options.memo, { managedBy: 'switchyard', source: 'config', job: 'nightly' });
    assert.deepEqual(options.state, { paused: false });
    const action = options.action;
    assert.equal(action.workflowType, 'cronRunWorkflow');
    assert.equal(action.workflowId, 'cron:nightly');
    assert.equal(action.taskQueue, 'switchyard');
    assert.equal(action.workflowExecutionTimeout, 5 * 60_000 + 5 * 60_000 + 60_000);
    const input = (action.args as unknown[])[0] as Record<string, unknown>;
    assert.equal(input.sessionKey, 'agent:main:cron:nightly');
    assert.equal(input.isolated, true);
    assert.equal(input.timeoutMs, 300_000);
    assert.equal((action.memo as Record<string, unknown>).specHash, specHash(job({ schedule: { cron: '0 3 * * MON-FRI', timezone: 'Europe/Paris', jitter: '30s', startAt: '2030-01-01T00:00:00Z', endAt: '2031-01-01T00:00:00Z' }, overlap: 'bufferAll', catchupWindow: '10m', pauseOnFailure: true, timeout: '5m' })));
  });

  test('every with an offset; paused in config', () => {
    const options = scheduleOptions('tick', job({ schedule: { every: '2s', offset: '1s' }, paused: true }), 'runtime');
    assert.deepEqual(options.spec, { intervals: [{ every: 2000, offset: 1000 }] });
    assert.deepEqual(options.policies, { overlap: 'SKIP', catchupWindow: 3_600_000, pauseOnFailure: false });
    assert.equal(options.state?.paused, true);
    assert.match(options.state?.note ?? '', /paused in config \(cron\.tick\.paused\)/);
    assert.equal((options.memo as Record<string, unknown>).source, 'runtime');
  });

  test('every overlap mode maps to its Temporal policy', () => {
    assert.deepEqual(
      OVERLAP_MODES.map((mode) => OVERLAP_POLICIES[mode]),
      ['SKIP', 'BUFFER_ONE', 'BUFFER_ALL', 'CANCEL_OTHER', 'TERMINATE_OTHER', 'ALLOW_ALL'],
    );
  });

  test('session: isolated by default, a scope, or a full key', () => {
    assert.deepEqual(resolveTarget('n', {}), { agentId: 'main', sessionKey: 'agent:main:cron:n', isolated: true });
    assert.deepEqual(resolveTarget('n', { agent: 'ops' }), { agentId: 'ops', sessionKey: 'agent:ops:cron:n', isolated: true });
    assert.deepEqual(resolveTarget('n', { session: 'main' }), { agentId: 'main', sessionKey: 'agent:main:main', isolated: false });
    assert.deepEqual(resolveTarget('n', { agent: 'ops', session: 'reports' }), { agentId: 'ops', sessionKey: 'agent:ops:reports', isolated: false });
    assert.deepEqual(resolveTarget('n', { session: 'agent:reviewer:github:acme/api' }), { agentId: 'reviewer', sessionKey: 'agent:reviewer:github:acme/api', isolated: false });
    assert.throws(() => resolveTarget('n', { agent: 'main', session: 'agent:ops:x' }), /names agent "ops" but agent is "main"/);
  });

  test('the hash ignores key order and unset fields, and follows every change', () => {
    const a = job({ schedule: { every: '1h' }, description: undefined });
    const b = normalizeJob({ timeout: '15m', paused: false, pauseOnFailure: false, catchupWindow: '1h', overlap: 'skip', prompt: 'report', schedule: { every: '1h' } });
    assert.equal(specHash(a), specHash(b));
    assert.notEqual(specHash(a), specHash({ ...a, prompt: 'other' }));
    assert.notEqual(specHash(a), specHash({ ...a, schedule: { every: '2h' } }));
    assert.notEqual(specHash(a), specHash({ ...a, overlap: 'bufferOne' }));
    assert.match(specHash(a), /^[0-9a-f]{16}$/);
  });

  test('an update keeps the live paused state and note unless paused itself changed', () => {
    const current = { state: { paused: true, note: 'operator: maintenance' } };
    const kept = scheduleUpdate('n', job({ schedule: { every: '1h' }, prompt: 'new' }), current, false);
    assert.deepEqual(kept.state, { paused: true, note: 'operator: maintenance' });
    const applied = scheduleUpdate('n', job({ schedule: { every: '1h' } }), current, true);
    assert.deepEqual(applied.state, { paused: false, note: '' });
  });

  test('a one-shot is a delayed start of the run workflow cron:<name>', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const { runAt, options } = oneShotStart('once', job({ schedule: { at: '20m' } }), 'runtime', now);
    assert.equal(runAt, now + 20 * 60_000);
    assert.equal(options.workflowId, 'cron:once');
    assert.equal(options.taskQueue, 'switchyard');
    assert.equal(options.startDelay, 20 * 60_000);
    const memo = options.memo as Record<string, unknown>;
    assert.equal(memo.kind, 'at');
    assert.equal(memo.source, 'runtime');
    assert.equal(memo.runAt, '2030-01-01T00:20:00.000Z');
    assert.equal((memo.definition as CronJob).schedule.at, '20m');
    assert.throws(() => scheduleOptions('once', job({ schedule: { at: '20m' } }), 'runtime'), /one-shot/);
  });
});
