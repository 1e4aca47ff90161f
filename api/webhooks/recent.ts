// Delivery ids this API process recently handed to Temporal, so that a sender's retry is
// answered `duplicate: true` at once. Only an answer: the session workflow is what runs a
// key once, across processes and restarts. Bounded; the oldest entries go first.
export class RecentDeliveries {
  private readonly entries = new Map<string, string>();

  constructor(readonly limit = 10_000) {}

  private static key(sessionKey: string, idempotencyKey: string): string {
    return `${sessionKey}\n${idempotencyKey}`;
  }

  /** The message id accepted under this key, if this process accepted it recently. */
  get(sessionKey: string, idempotencyKey: string): string | undefined {
    return this.entries.get(RecentDeliveries.key(sessionKey, idempotencyKey));
  }

  add(sessionKey: string, idempotencyKey: string, messageId: string): void {
    const key = RecentDeliveries.key(sessionKey, idempotencyKey);
    this.entries.delete(key);
    this.entries.set(key, messageId);
    while (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}
