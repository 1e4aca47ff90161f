import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResultLine } from '../activities/stream-json.js';
import { classifyOutcome } from '../activities/turn-outcome.js';

const result = (over: Partial<ResultLine>): ResultLine =>
  ({ type: 'result', subtype: 'success', is_error: false, result: 'ok', total_cost_usd: 0, usage: {}, num_turns: 1, duration_ms: 1, permission_denials: [], ...over }) as ResultLine;

test('success needs a success result line and exit 0', () => {
  assert.equal(classifyOutcome({ exitCode: 0, result: result({}), stderrTail: '', agentId: 'main' }).kind, 'success');
  assert.equal(classifyOutcome({ exitCode: 1, result: result({}), stderrTail: '', agentId: 'main' }).kind, 'failure');
});

test('auth and bad requests are not retried; overload and crashes are', () => {
  const cases: Array<[Partial<ResultLine> | undefined, number, string, boolean]> = [
    [{ is_error: true, api_error_status: 401, result: 'Invalid API key' }, 1, 'AgentAuthenticationError', true],
    [{ is_error: true, api_error_status: 403 }, 1, 'AgentAuthenticationError', true],
    [{ is_error: true, api_error_status: 400 }, 1, 'AgentBadRequest', true],
    [{ is_error: true, api_error_status: 529 }, 1, 'AgentApiError', false],
    [{ is_error: true, api_error_status: 429 }, 1, 'AgentApiError', false],
    [{ is_error: true, api_error_status: 500 }, 1, 'AgentApiError', false],
    [{ subtype: 'error_max_turns', is_error: true }, 1, 'AgentLimitReached', true],
    [undefined, 139, 'AgentCrashed', false],
  ];
  for (const [line, exitCode, type, nonRetryable] of cases) {
    const verdict = classifyOutcome({ exitCode, ...(line ? { result: result(line) } : {}), stderrTail: 'boom', agentId: 'main' });
    assert.equal(verdict.kind, 'failure');
    if (verdict.kind !== 'failure') continue;
    assert.equal(verdict.failure.type, type, JSON.stringify(line));
    assert.equal(verdict.failure.nonRetryable, nonRetryable, JSON.stringify(line));
  }
});

test('an unknown --resume id is recognised', () => {
  const verdict = classifyOutcome({ exitCode: 1, stderrTail: 'No conversation found with session ID: 1234', agentId: 'main' });
  assert.equal(verdict.kind, 'unknown-session');
});
