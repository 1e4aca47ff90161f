// A token bucket per connection: `burst` requests at once, then `requestsPerSecond`.
// Small enough that a dependency would cost more than it saves.
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  /** Takes one token: undefined when granted, else the milliseconds until one is available. */
  take(): number | undefined {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
  }
}
