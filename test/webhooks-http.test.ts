// POST /hooks/:source end to end: real Temporal, the real `claude` CLI, the fake Messages API.
import assert from 'node:assert/strict';
import { WorkflowNotFoundError } from '@temporalio/client';
import { after, before, describe, test } from 'node:test';
import { IGNORED_HEADER } from '../api/routes/hooks-source.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { durableEvents, outcomeOf } from './support/sessions.js';
import { postRaw, sign, STANDARD_SECRET, type SignOptions, type Signed } from './support/webhooks.js';

const TOKEN = 'gateway-token';
const SECRETS = { github: 'gh-secret', stripe: 'whsec_stripe_test', slack: 'slack-signing-secret', generic: 'generic-secret' };

let fake: FakeAnthropic;
let gateway: TestGateway;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    token: TOKEN,
    config: {
      agents: { main: {}, reviewer: {} },
      webhooks: {
        github: {
          verify: { type: 'github', secrets: ['an-old-secret', SECRETS.github] },
          agent: 'reviewer',
          session: 'github:{{body.repository.full_name}}',
          prompt: '{{header.x-github-event}} {{body.action}}: {{body.marker}}',
          filters: { ignore: [{ header: 'x-github-event', in: ['ping'] }], when: [{ body: 'pull_request.draft', notIn: [true] }] },
        },
        stripe: { verify: { type: 'stripe', secret: SECRETS.stripe }, session: 'stripe:{{body.data.object.customer}}', prompt: 'stripe {{body.type}}: {{body.marker}}' },
        slack: { verify: { type: 'slack', secret: SECRETS.slack }, session: 'slack:{{body.event.channel}}', prompt: '{{body.event.text}}' },
        // A prompt starting with "/" would be taken by the CLI as a slash command: start with text.
        slackcmd: { verify: { type: 'slack', secret: SECRETS.slack }, session: 'slack:{{body.channel_id}}', prompt: 'Slack {{body.command}} {{body.text}}' },
        standard: { verify: { type: 'standard-webhooks', secret: STANDARD_SECRET }, session: '{{body.session}}', prompt: '{{body.marker}}', mode: 'sync' },
        generic: {
          verify: { type: 'hmac', header: 'X-Signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=', timestampHeader: 'X-Timestamp', secret: SECRETS.generic },
          dedupeKey: 'header.x-request-id-ext',
          session: '{{body.session}}',
          prompt: '{{body.marker}}',
        },
        bearer: { session: '{{body.session}}', prompt: '{{body.marker}} [{{header.authorization}}]' },
        small: { verify: 'none', bodyLimit: 200, session: 'small', prompt: '{{body.marker}}' },
        limited: { verify: 'none', session: '{{body.session}}', prompt: '{{body.marker}}', rateLimit: { requestsPerSecond: 0.01, burst: 2 } },
        off: { enabled: false, verify: 'none' },
      },
    },
  });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

const hook = (source: string) => `${gateway.url}/hooks/${source}`;
const callsWith = (marker: string) => fake.mainRequests().filter((r) => r.prompt?.includes(marker));

async function workflowExists(sessionKey: string): Promise<boolean> {
  try {
    await gateway.client.workflow.getHandle(`session:${sessionKey}`).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

interface Scheme {
  source: string;
  secret: string;
  timestamped: boolean;
  /** A body for a delivery to a fresh session; `sessionKey` is where it must land. */
  body(marker: string): { body: string; sessionKey: string; prompt: string };
  sign(body: string, options: SignOptions): Signed;
  /** Status of an accepted delivery. */
  accepted: number;
}

const schemes: Scheme[] = [
  {
    source: 'github',
    secret: SECRETS.github,
    timestamped: false,
    body: (marker) => ({
      body: JSON.stringify({ action: 'opened', marker, repository: { full_name: `acme/${marker}` }, pull_request: { draft: false } }),
      sessionKey: `agent:reviewer:github:acme/${marker}`,
      prompt: `pull_request opened: ${marker}`,
    }),
    sign: (body, options) => {
      const signed = sign.github(body, options);
      signed.headers['x-github-event'] = 'pull_request';
      return signed;
    },
    accepted: 202,
  },
  {
    source: 'stripe',
    secret: SECRETS.stripe,
    timestamped: true,
    body: (marker) => ({
      body: JSON.stringify({ id: `evt_${marker}`, object: 'event', type: 'invoice.paid', marker, data: { object: { customer: `cus_${marker}` } } }),
      sessionKey: `agent:main:stripe:cus_${marker}`,
      prompt: `stripe invoice.paid: ${marker}`,
    }),
    sign: sign.stripe,
    accepted: 202,
  },
  {
    source: 'slack',
    secret: SECRETS.slack,
    timestamped: true,
    body: (marker) => ({
      body: JSON.stringify({ type: 'event_callback', event_id: `Ev${marker}`, event: { type: 'app_mention', channel: `C${marker}`, text: `hello ${marker}` } }),
      sessionKey: `agent:main:slack:C${marker}`,
      prompt: `hello ${marker}`,
    }),
    sign: (body, options) => sign.slack(body, options),
    accepted: 202,
  },
  {
    source: 'standard',
    secret: STANDARD_SECRET,
    timestamped: true,
    body: (marker) => ({ body: JSON.stringify({ session: `std-${marker}`, marker }), sessionKey: `agent:main:std-${marker}`, prompt: marker }),
    sign: sign.standardWebhooks,
    accepted: 200,
  },
  {
    source: 'generic',
    secret: SECRETS.generic,
    timestamped: true,
    body: (marker) => ({ body: JSON.stringify({ session: `gen-${marker}`, marker }), sessionKey: `agent:main:gen-${marker}`, prompt: marker }),
    sign: sign.genericSha512,
    accepted: 202,
  },
  {
    source: 'bearer',
    secret: TOKEN,
    timestamped: false,
    body: (marker) => ({ body: JSON.stringify({ session: `bearer-${marker}`, marker }), sessionKey: `agent:main:bearer-${marker}`, prompt: `${marker} []` }),
    sign: (_body, options) => ({ headers: { authorization: `Bearer ${options.secret}`, 'content-type': 'application/json' } }),
    accepted: 202,
  },
];

async function assertNothingStarted(sessionKey: string, marker: string): Promise<void> {
  assert.equal(await workflowExists(sessionKey), false, `no session workflow for ${sessionKey}`);
  assert.equal(callsWith(marker).length, 0, 'no request reached the Messages API');
}

for (const scheme of schemes) {
  describe(`${scheme.source}`, () => {
    test('a correctly signed delivery is accepted and answered', async () => {
      const marker = uniqueScope(scheme.source);
      const { body, sessionKey, prompt } = scheme.body(marker);
      const res = await postRaw(hook(scheme.source), body, scheme.sign(body, { secret: scheme.secret }).headers);
      assert.equal(res.status, scheme.accepted, JSON.stringify(res.body));
      assert.equal(res.body.sessionKey, sessionKey);
      assert.equal(res.body.workflowId, `session:${sessionKey}`);
      assert.equal(res.body.duplicate, false);
      const outcome = await outcomeOf(gateway, sessionKey, res.body.messageId);
      assert.equal(outcome.type, 'turn.completed');
      assert.equal(outcome.data.result, `echo: ${prompt}`);
      const queued = (await durableEvents(gateway, sessionKey)).find((e) => e.type === 'turn.queued')!;
      assert.equal(queued.data.source, `hook:${scheme.source}`);
    });

    test('a tampered body is refused with 401 and starts nothing', async () => {
      const marker = uniqueScope(scheme.source);
      const { body, sessionKey } = scheme.body(marker);
      const { headers } = scheme.sign(body, { secret: scheme.secret });
      const tampered = body.replace(marker, `${marker}-x`);
      const res = await postRaw(hook(scheme.source), tampered, headers);
      if (scheme.source === 'bearer') {
        // A bearer token signs nothing: the body is not covered, so this one is accepted.
        assert.equal(res.status, 202);
        await outcomeOf(gateway, res.body.sessionKey, res.body.messageId);
        return;
      }
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'unauthorized');
      await assertNothingStarted(sessionKey, marker);
    });

    test('a wrong secret is refused with 401 and starts nothing', async () => {
      const marker = uniqueScope(scheme.source);
      const { body, sessionKey } = scheme.body(marker);
      const wrong = scheme.source === 'standard' ? `whsec_${Buffer.from('a different key, 32 bytes long!!').toString('base64')}` : `${scheme.secret}-wrong`;
      const res = await postRaw(hook(scheme.source), body, scheme.sign(body, { secret: wrong }).headers);
      assert.equal(res.status, 401, JSON.stringify(res.body));
      await assertNothingStarted(sessionKey, marker);
    });

    if (scheme.timestamped) {
      test('a stale timestamp is refused with 401 and starts nothing', async () => {
        const marker = uniqueScope(scheme.source);
        const { body, sessionKey } = scheme.body(marker);
        const res = await postRaw(hook(scheme.source), body, scheme.sign(body, { secret: scheme.secret, timestamp: Math.floor(Date.now() / 1000) - 600 }).headers);
        assert.equal(res.status, 401, JSON.stringify(res.body));
        assert.match(res.body.error.message, /timestamp/);
        await assertNothingStarted(sessionKey, marker);
      });
    }
  });
}

describe('dedupe', () => {
  test('the same GitHub delivery posted twice runs exactly one turn; the second is reported as a duplicate', async () => {
    const marker = uniqueScope('dup');
    const { body, sessionKey } = schemes[0]!.body(marker);
    const headers = schemes[0]!.sign(body, { secret: SECRETS.github, id: `delivery-${marker}` }).headers;
    const first = await postRaw(hook('github'), body, headers);
    const second = await postRaw(hook('github'), body, headers);
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    assert.equal(first.body.duplicate, false);
    assert.equal(second.body.duplicate, true);
    assert.equal(second.body.messageId, first.body.messageId);
    await outcomeOf(gateway, sessionKey, first.body.messageId);
    const third = await postRaw(hook('github'), body, headers);
    assert.equal(third.body.duplicate, true);
    const events = await durableEvents(gateway, sessionKey);
    assert.equal(events.filter((e) => e.type === 'turn.queued').length, 1);
    assert.equal(events.filter((e) => e.type === 'turn.completed').length, 1);
    assert.equal(callsWith(marker).length, 1);
  });

  test('the same Stripe event posted concurrently, re-signed each time, runs exactly one turn', async () => {
    const marker = uniqueScope('dupc');
    const { body, sessionKey } = schemes[1]!.body(marker);
    const answers = await Promise.all([0, 1, 2].map(() => postRaw(hook('stripe'), body, sign.stripe(body, { secret: SECRETS.stripe }).headers)));
    assert.deepEqual(answers.map((a) => a.status), [202, 202, 202]);
    // Whichever copy reached the workflow first, every caller holds the id of the message that runs.
    assert.equal(new Set(answers.map((a) => a.body.messageId)).size, 1);
    await outcomeOf(gateway, sessionKey, answers[0]!.body.messageId);
    const events = await durableEvents(gateway, sessionKey);
    assert.equal(events.filter((e) => e.type === 'turn.queued').length, 1);
    assert.equal(events.filter((e) => e.type === 'turn.completed').length, 1);
  });
});

describe('modes', () => {
  test("sync mode answers with the agent's result", async () => {
    const marker = uniqueScope('sync');
    fake.enqueueFor(marker, { kind: 'text', text: `the answer for ${marker}` });
    const body = JSON.stringify({ session: `sync-${marker}`, marker });
    const res = await postRaw(hook('standard'), body, sign.standardWebhooks(body, { secret: STANDARD_SECRET }).headers);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'completed');
    assert.equal(res.body.result, `the answer for ${marker}`);
    assert.equal(res.body.sessionKey, `agent:main:sync-${marker}`);
    assert.ok(res.body.turnId && res.body.messageId && res.body.seq > 0);
  });

  test('credentials are never visible to templates', async () => {
    const marker = uniqueScope('cred');
    const body = JSON.stringify({ session: `cred-${marker}`, marker });
    const res = await postRaw(hook('bearer'), body, { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' });
    assert.equal(res.status, 202);
    const outcome = await outcomeOf(gateway, res.body.sessionKey, res.body.messageId);
    assert.equal(outcome.data.result, `echo: ${marker} []`);
  });
});

describe('filters and slack specifics', () => {
  test('an ignored event is acknowledged with 204, the reason in a header, and starts nothing', async () => {
    const marker = uniqueScope('ping');
    const { body, sessionKey } = schemes[0]!.body(marker);
    const headers = { ...sign.github(body, { secret: SECRETS.github }).headers, 'x-github-event': 'ping' };
    const res = await postRaw(hook('github'), body, headers);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get(IGNORED_HEADER), 'filters.ignore[0] (header x-github-event) matched');
    await assertNothingStarted(sessionKey, marker);

    const draft = JSON.stringify({ action: 'opened', marker, repository: { full_name: `acme/${marker}` }, pull_request: { draft: true } });
    const res2 = await postRaw(hook('github'), draft, { ...sign.github(draft, { secret: SECRETS.github }).headers, 'x-github-event': 'pull_request' });
    assert.equal(res2.status, 204);
    assert.equal(res2.headers.get(IGNORED_HEADER), 'filters.when[0] (body.pull_request.draft) did not match');
    await assertNothingStarted(sessionKey, marker);
  });

  test('a signed Slack url_verification gets its challenge back; an unsigned one does not', async () => {
    const body = JSON.stringify({ token: 'x', challenge: 'challenge-123', type: 'url_verification' });
    const res = await postRaw(hook('slack'), body, sign.slack(body, { secret: SECRETS.slack }).headers);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { challenge: 'challenge-123' });
    const unsigned = await postRaw(hook('slack'), body, { 'content-type': 'application/json' });
    assert.equal(unsigned.status, 401);
  });

  test('a Slack slash command (a form body) is verified on its exact bytes and mapped from its fields', async () => {
    const marker = uniqueScope('cmd');
    const body = `token=x&team_id=T1&channel_id=C${marker}&command=%2Fask&text=hello+${marker}&user_name=ann`;
    const res = await postRaw(hook('slackcmd'), body, sign.slack(body, { secret: SECRETS.slack }, 'application/x-www-form-urlencoded').headers);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.sessionKey, `agent:main:slack:C${marker}`);
    const outcome = await outcomeOf(gateway, res.body.sessionKey, res.body.messageId);
    assert.equal(outcome.data.result, `echo: Slack /ask hello ${marker}`);
  });
});

describe('limits', () => {
  test('404 for an unknown or disabled source', async () => {
    for (const source of ['nope', 'off', '__proto__', 'constructor']) {
      const res = await postRaw(hook(source), '{}', { 'content-type': 'application/json' });
      assert.equal(res.status, 404, source);
      assert.equal(res.body.error.code, 'not_found');
    }
  });

  test('413 for a body over the source limit, by Content-Length or while streaming', async () => {
    const big = JSON.stringify({ marker: 'x'.repeat(300) });
    const res = await postRaw(hook('small'), big, { 'content-type': 'application/json' });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'body_too_large');
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(50)));
        controller.close();
      },
    });
    const chunked = await fetch(hook('small'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: stream, duplex: 'half' } as RequestInit);
    assert.equal(chunked.status, 413);
    const ok = await postRaw(hook('small'), JSON.stringify({ marker: uniqueScope('fits') }), { 'content-type': 'application/json' });
    assert.equal(ok.status, 202);
    await outcomeOf(gateway, ok.body.sessionKey, ok.body.messageId);
  });

  test('429 with Retry-After over the rate limit, and the refused delivery starts nothing', async () => {
    const results = [];
    const marker = uniqueScope('rl');
    for (let i = 0; i < 3; i++) {
      results.push(await postRaw(hook('limited'), JSON.stringify({ session: `rl-${marker}`, marker: `${marker}-${i}` }), { 'content-type': 'application/json' }));
    }
    assert.deepEqual(results.map((r) => r.status), [202, 202, 429]);
    assert.equal(results[2]!.body.error.code, 'rate_limited');
    assert.ok(Number(results[2]!.headers.get('retry-after')) >= 1);
    await outcomeOf(gateway, `agent:main:rl-${marker}`, results[1]!.body.messageId);
    assert.equal(callsWith(`${marker}-2`).length, 0);
  });

  test('400 for invalid JSON on a verified request', async () => {
    const body = '{"not json';
    const res = await postRaw(hook('github'), body, sign.github(body, { secret: SECRETS.github }).headers);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'invalid_json');
  });

  // Last: it holds this address back for the rest of the window.
  test('repeated authentication failures from one address are answered 429 without being checked', async () => {
    const marker = uniqueScope('brute');
    const { body, sessionKey } = schemes[0]!.body(marker);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await postRaw(hook('github'), body, sign.github(body, { secret: `guess-${i}` }).headers)).status);
    assert.deepEqual(statuses, Array(10).fill(401));
    const valid = await postRaw(hook('github'), body, { ...sign.github(body, { secret: SECRETS.github }).headers, 'x-github-event': 'pull_request' });
    assert.equal(valid.status, 429);
    assert.equal(valid.body.error.code, 'too_many_auth_failures');
    assert.ok(Number(valid.headers.get('retry-after')) >= 1);
    const agentHook = await postRaw(`${gateway.url}/hooks/agent`, JSON.stringify({ message: 'x' }), { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' });
    assert.equal(agentHook.status, 429, 'the brake covers /hooks/agent too');
    const open = await postRaw(hook('small'), JSON.stringify({ marker }), { 'content-type': 'application/json' });
    assert.equal(open.status, 202, 'sources without verification are not held back');
    assert.equal(await workflowExists(sessionKey), false);
  });
});
