// Decides what a finished CLI process means: a result, a failure worth retrying, or one
// that a person has to fix (non-retryable, with a message that says what to do).
import { ApplicationFailure } from '@temporalio/activity';
import { TURN_FAILURE } from '../contracts/session.js';
import type { ResultLine } from './stream-json.js';

export interface ProcessOutcome {
  exitCode?: number;
  signal?: string;
  result?: ResultLine;
  stderrTail: string;
  agentId: string;
}

export type TurnOutcome =
  | { kind: 'success'; result: ResultLine }
  | { kind: 'unknown-session' }
  | { kind: 'session-in-use' }
  | { kind: 'failure'; failure: ApplicationFailure };

const UNKNOWN_SESSION = /no conversation found|session .* not found|could not find session/i;
const SESSION_IN_USE = /session id .* already in use|already in use/i;

export function classifyOutcome(outcome: ProcessOutcome): TurnOutcome {
  const { result, exitCode, signal, stderrTail, agentId } = outcome;
  if (result && result.subtype === 'success' && !result.is_error && exitCode === 0) return { kind: 'success', result };

  const said = [result?.result ?? '', ...(result?.errors ?? []).map(String), stderrTail].join('\n');
  if (UNKNOWN_SESSION.test(said)) return { kind: 'unknown-session' };
  if (SESSION_IN_USE.test(said)) return { kind: 'session-in-use' };

  const status = result?.api_error_status ?? undefined;
  const detail = oneLine(result?.result || stderrTail || '(no output)');
  if (status === 401 || status === 403) {
    return failure(
      TURN_FAILURE.auth,
      `The Anthropic API refused the agent's credentials (HTTP ${status}): ${detail}. Check ANTHROPIC_API_KEY or the agent's login (agents.${agentId}.env), then send the message again.`,
      true,
    );
  }
  if (status === 400 || status === 404 || status === 413) {
    return failure(TURN_FAILURE.badRequest, `The Anthropic API rejected the request (HTTP ${status}): ${detail}. Check agents.${agentId}.model and the prompt size.`, true);
  }
  if (status !== undefined && status !== null) {
    return failure(TURN_FAILURE.api, `The Anthropic API answered HTTP ${status}${status === 529 ? ' (overloaded)' : status === 429 ? ' (rate limited)' : ''}: ${detail}`, false);
  }
  if (result?.subtype === 'error_max_turns') {
    return failure(TURN_FAILURE.limit, `The agent reached its limit of agentic turns (agents.${agentId}.maxTurns) before finishing.`, true);
  }
  if (result?.subtype === 'error_max_budget_usd') {
    return failure(TURN_FAILURE.limit, `The agent reached its budget (agents.${agentId}.maxBudgetUsd) before finishing.`, true);
  }
  const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode ?? 'unknown'}`;
  return failure(TURN_FAILURE.crash, `The Claude CLI ${how} without a result: ${detail}`, false);
}

function failure(type: string, message: string, nonRetryable: boolean): TurnOutcome {
  return { kind: 'failure', failure: ApplicationFailure.create({ type, message, nonRetryable }) };
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 500 ? `${flat.slice(0, 500)}…` : flat;
}
