// Recognises "Temporal is not there" among the errors the client raises, so that callers
// get 503 (nothing accepted) rather than 500.
import { ServiceError } from '@temporalio/client';

/** gRPC status codes (UNAVAILABLE, DEADLINE_EXCEEDED), as the client reports them. */
const UNAVAILABLE_CODES = new Set<number>([14, 4]);

export function isTemporalUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number' && UNAVAILABLE_CODES.has(code)) return true;
    if (current instanceof ServiceError && /UNAVAILABLE|DEADLINE_EXCEEDED|No connection established/i.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Nothing was accepted (or it is unknown whether it was): retry with `idempotencyKey`. */
export class TemporalUnavailableError extends Error {
  constructor(
    readonly idempotencyKey: string,
    override readonly cause: unknown,
  ) {
    super('Temporal is unreachable; nothing was accepted');
  }
}
