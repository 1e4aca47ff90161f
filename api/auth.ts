// Bearer tokens, compared in constant time, and the rule that a gateway reachable from
// other machines must have one.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** Hashing first makes the comparison constant-time whatever the lengths. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

export function bearerOf(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function isLoopback(bind: string): boolean {
  return bind === 'localhost' || bind === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bind);
}

/** Refuses to serve beyond loopback without a token. */
export function assertSafeBind(bind: string, token: string | undefined): void {
  if (!isLoopback(bind) && !token) {
    throw new Error(`refusing to bind ${bind} without a token: set SWITCHYARD_TOKEN (or gateway.auth.token), or bind to 127.0.0.1`);
  }
}

/** A preHandler: with a token configured, the request must carry it. */
export function requireToken(token: string | undefined) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!token) return;
    const given = bearerOf(request.headers.authorization);
    if (!given || !tokensEqual(given, token)) {
      throw new ApiError(401, 'unauthorized', given ? 'invalid bearer token' : 'missing bearer token (Authorization: Bearer <token>)', undefined, {
        'www-authenticate': 'Bearer',
      });
    }
  };
}
