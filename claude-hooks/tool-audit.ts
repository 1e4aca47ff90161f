// The durable tool audit of a turn: every tool call the CLI reported in its stream-json,
// whether it failed, and whether the gateway's tool policy denied it. The turn activity
// returns it with the result; the session workflow records it in `turn.completed`.
import { ApplicationFailure } from '@temporalio/activity';
import type { ToolAuditEntry } from '../contracts/session.js';
import { bounded } from './hook-input.js';
import { deniedBy, denialReason, type ToolRule } from './tool-policy.js';

/** The audit travels in the event log (500 events, 512 KB window): keep it small. */
export const AUDIT_MAX_ENTRIES = 100;
const AUDIT_INPUT_LIMIT = 1000;
const AUDIT_ERROR_LIMIT = 500;

export class ToolAudit {
  private readonly entries: ToolAuditEntry[] = [];
  private readonly byId = new Map<string, { entry: ToolAuditEntry; input: unknown }>();
  private omitted = 0;

  constructor(
    private readonly agentId: string,
    private readonly rules: readonly ToolRule[],
  ) {}

  call(toolUseId: string, name: string, input: unknown): void {
    const entry: ToolAuditEntry = { toolUseId, name, input: bounded(input, AUDIT_INPUT_LIMIT), status: 'called' };
    this.byId.set(toolUseId, { entry, input });
    if (this.entries.length < AUDIT_MAX_ENTRIES) this.entries.push(entry);
    else this.omitted += 1;
  }

  result(toolUseId: string, isError: boolean, output: string): void {
    const known = this.byId.get(toolUseId);
    if (!known) return;
    const { entry, input } = known;
    if (!isError) {
      entry.status = 'ok';
      return;
    }
    // The CLI reports a hook's denial as an error result; the policy says whose it was.
    const rule = deniedBy(this.rules, { name: entry.name, input });
    if (rule) {
      entry.status = 'denied';
      entry.rule = rule.source;
      entry.reason = denialReason(this.agentId, rule);
      // A denied call is never left out, even past the limit.
      if (!this.entries.includes(entry)) {
        this.entries.push(entry);
        this.omitted -= 1;
      }
    } else {
      entry.status = 'error';
      entry.error = output.length > AUDIT_ERROR_LIMIT ? `${output.slice(0, AUDIT_ERROR_LIMIT)}…` : output;
    }
  }

  /** The entries, and how many calls were left out beyond the limit. */
  snapshot(): { tools: ToolAuditEntry[]; toolsOmitted?: number } {
    return { tools: this.entries.map((e) => ({ ...e })), ...(this.omitted > 0 ? { toolsOmitted: this.omitted } : {}) };
  }
}

/** A failed turn keeps its audit too: it rides in the failure's details, which the workflow reads into `turn.failed`. */
export function withToolAudit(failure: ApplicationFailure, audit: ReturnType<ToolAudit['snapshot']>): ApplicationFailure {
  if (audit.tools.length === 0) return failure;
  return ApplicationFailure.create({
    type: failure.type ?? undefined,
    message: failure.message,
    nonRetryable: failure.nonRetryable ?? false,
    details: [audit],
    ...(failure.nextRetryDelay !== undefined ? { nextRetryDelay: failure.nextRetryDelay } : {}),
  });
}
