// Idempotency keys of recent messages, oldest dropped first, carried through continue-as-new.
export const RECENT_KEYS_LIMIT = 2000;

export class RecentKeys {
  private readonly order: string[];
  private readonly byKey: Map<string, string>;

  /** `entries` are `key=messageId` pairs, oldest first. */
  constructor(entries: string[] = []) {
    this.order = [];
    this.byKey = new Map();
    for (const entry of entries) {
      const at = entry.lastIndexOf('=');
      if (at > 0) this.add(entry.slice(0, at), entry.slice(at + 1));
    }
  }

  /** The message id first accepted under this key, if it is still remembered. */
  get(key: string): string | undefined {
    return this.byKey.get(key);
  }

  add(key: string, messageId: string): void {
    if (this.byKey.has(key)) return;
    this.byKey.set(key, messageId);
    this.order.push(key);
    while (this.order.length > RECENT_KEYS_LIMIT) this.byKey.delete(this.order.shift()!);
  }

  snapshot(): string[] {
    return this.order.map((key) => `${key}=${this.byKey.get(key)}`);
  }
}
