// The per-turn token a turn's hooks present to POST /internal/hooks. Stateless, so that the
// worker (which mints it) and the API (which checks it) share nothing but the internal
// token: `<base64url(claims)>.<base64url(HMAC-SHA256(key, claims))>`, where the key is
// derived from the internal token. The internal token itself never leaves the gateway's
// processes; a leaked hook token names one turn and expires with it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export interface HookTokenClaims {
  sessionKey: string;
  turnId: string;
  agentId: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const Claims = z.strictObject({
  sessionKey: z.string().min(1),
  turnId: z.string().min(1),
  agentId: z.string().min(1),
  expiresAt: z.number().int().positive(),
});

export type HookTokenCheck = { ok: true; claims: HookTokenClaims } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

/** A key for this purpose only: a hook token is never valid as anything else. */
function hookKey(internalToken: string): Buffer {
  return createHmac('sha256', internalToken).update('switchyard/claude-hook-token/v1').digest();
}

function sign(internalToken: string, payload: string): Buffer {
  return createHmac('sha256', hookKey(internalToken)).update(payload).digest();
}

export function mintHookToken(internalToken: string, claims: HookTokenClaims): string {
  const payload = Buffer.from(JSON.stringify(Claims.parse(claims))).toString('base64url');
  return `${payload}.${sign(internalToken, payload).toString('base64url')}`;
}

export function verifyHookToken(internalToken: string, token: string, now: number): HookTokenCheck {
  const [payload, mac, extra] = token.split('.');
  if (!payload || !mac || extra !== undefined) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(mac, 'base64url');
  const expected = sign(internalToken, payload);
  // Lengths are public (a SHA-256 MAC); the comparison of the bytes is constant-time.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  let claims: HookTokenClaims;
  try {
    claims = Claims.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (claims.expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
