// Request limits of the hook routes: a token bucket per source, and a brake on addresses
// that keep failing authentication. Both are in-process (one API process), O(1) per
// request, and bounded in memory.
import type { FastifyRequest } from 'fastify';
import { requireToken } from '../auth.js';
import { ApiError } from '../errors.js';

/** A token bucket: `burst` tokens at most, refilled at `ratePerSecond`. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    now: number = Date.now(),
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Takes one token; when there is none, how long until there will be (ms). */
  take(now: number = Date.now()): { ok: true } | { ok: false; retryAfterMs: number } {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = Math.max(this.updatedAt, now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond) };
  }
}

export interface AuthThrottleOptions {
  /** Failures an address may have in one window before it is refused. */
  maxFailures?: number;
  windowMs?: number;
  /** Addresses remembered at once; the least recently failing are forgotten first. */
  maxAddresses?: number;
}

interface Failures {
  count: number;
  windowStart: number;
}

/**
 * After `maxFailures` failed authentications from one address within `windowMs`, that
 * address gets 429 (with Retry-After) until the window ends, without its credentials or
 * signatures being checked. Memory is bounded by `maxAddresses` (oldest evicted first).
 */
export class AuthFailureThrottle {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly maxAddresses: number;
  private readonly failures = new Map<string, Failures>();

  constructor(options: AuthThrottleOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxAddresses = options.maxAddresses ?? 10_000;
  }

  get size(): number {
    return this.failures.size;
  }

  /** Milliseconds until the address may try again, or undefined when it may now. */
  blockedFor(address: string, now: number = Date.now()): number | undefined {
    const entry = this.failures.get(address);
    if (!entry) return undefined;
    if (now - entry.windowStart >= this.windowMs) {
      this.failures.delete(address);
      return undefined;
    }
    return entry.count >= this.maxFailures ? entry.windowStart + this.windowMs - now : undefined;
  }

  recordFailure(address: string, now: number = Date.now()): void {
    let entry = this.failures.get(address);
    if (!entry || now - entry.windowStart >= this.windowMs) entry = { count: 0, windowStart: now };
    entry.count += 1;
    // Re-inserting keeps the Map in order of last failure: the first key is the stalest.
    this.failures.delete(address);
    this.failures.set(address, entry);
    while (this.failures.size > this.maxAddresses) {
      const oldest = this.failures.keys().next().value as string;
      this.failures.delete(oldest);
    }
  }

  recordSuccess(address: string): void {
    this.failures.delete(address);
  }

  /** Throws 429 when the request's address is being held back. */
  check(request: FastifyRequest, now: number = Date.now()): void {
    const waitMs = this.blockedFor(request.ip, now);
    if (waitMs !== undefined) throw tooManyAuthFailures(waitMs);
  }
}

export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

export function tooManyAuthFailures(waitMs: number): ApiError {
  return new ApiError(429, 'too_many_auth_failures', 'too many failed authentications from this address; try again later', undefined, {
    'retry-after': retryAfterSeconds(waitMs),
  });
}

export function rateLimited(source: string, waitMs: number): ApiError {
  return new ApiError(429, 'rate_limited', `webhook source "${source}" is over its rate limit; retry later`, undefined, {
    'retry-after': retryAfterSeconds(waitMs),
  });
}

/**
 * A preHandler like auth.requireToken, with failures counted per address: after too many,
 * the address gets 429 without its token being looked at.
 */
export function requireTokenThrottled(token: string | undefined, throttle: AuthFailureThrottle) {
  const check = requireToken(token);
  return async (request: FastifyRequest): Promise<void> => {
    if (!token) return;
    throttle.check(request);
    try {
      await check(request);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throttle.recordFailure(request.ip);
      throw error;
    }
  };
}
