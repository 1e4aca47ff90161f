// Who may open /rpc, decided at the HTTP upgrade (before any frame):
//
// - With a token configured (`gateway.auth.token`, default $SWITCHYARD_TOKEN): the header
//   `Authorization: Bearer <token>`, or, for browsers (which cannot set headers on a
//   WebSocket), the subprotocol `switchyard.bearer.<token>` offered together with
//   `switchyard.v1`. The server then selects `switchyard.v1`, never echoing the token.
// - Without a token, on a loopback bind: no auth, but a browser page from another origin is
//   refused (a web page must not drive a local gateway: cross-site WebSocket hijacking).
// - Without a token on any other bind: refused (the API refuses to start like that anyway).
//
// Any subprotocol offered must include `switchyard.v1`, so that the handshake can select it.
import type { IncomingMessage } from 'node:http';
import { bearerOf, isLoopback, tokensEqual } from '../auth.js';
import { ADAPTER_TOKEN_PREFIX, OPERATOR, type RpcPrincipal } from './scopes.js';

export const RPC_SUBPROTOCOL = 'switchyard.v1';
export const BEARER_SUBPROTOCOL_PREFIX = 'switchyard.bearer.';

export type UpgradeDecision =
  | { ok: true; protocol: string | undefined; principal: RpcPrincipal }
  | { ok: false; status: 400 | 401 | 403; code: string; message: string; headers?: Record<string, string> };

export function offeredProtocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((protocol) => protocol.trim())
    .filter(Boolean);
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const host = new URL(origin).hostname.replace(/^\[|\]$/g, '');
    return isLoopback(host);
  } catch {
    return false;
  }
}

export function authorizeUpgrade(
  request: IncomingMessage,
  auth: {
    token: string | undefined;
    bind: string;
    /** The principal a channel adapter's token stands for (compared in constant time), else undefined. */
    scopedToken?: (given: string) => RpcPrincipal | undefined;
  },
): UpgradeDecision {
  const offered = offeredProtocols(request);
  const bearerProtocol = offered.find((protocol) => protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  const others = offered.filter((protocol) => !protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  if (offered.length > 0 && !others.includes(RPC_SUBPROTOCOL)) {
    return {
      ok: false,
      status: 400,
      code: 'unsupported_subprotocol',
      message: `offer the subprotocol "${RPC_SUBPROTOCOL}" (with "${BEARER_SUBPROTOCOL_PREFIX}<token>" to authenticate), or none`,
    };
  }
  const protocol = offered.length > 0 ? RPC_SUBPROTOCOL : undefined;
  const given = bearerOf(request.headers.authorization) ?? bearerProtocol?.slice(BEARER_SUBPROTOCOL_PREFIX.length);
  // An adapter's token opens a scoped connection, with or without a gateway token.
  const scoped = given === undefined ? undefined : auth.scopedToken?.(given);
  if (scoped) return { ok: true, protocol, principal: scoped };
  if (given?.startsWith(ADAPTER_TOKEN_PREFIX)) {
    // An adapter of an API process that is gone: it must not fall back to the operator scope.
    return { ok: false, status: 401, code: 'unauthorized', message: 'unknown or expired channel adapter token', headers: { 'www-authenticate': 'Bearer' } };
  }

  if (auth.token) {
    if (!given) {
      return {
        ok: false,
        status: 401,
        code: 'unauthorized',
        message: `missing bearer token (Authorization: Bearer <token>, or the subprotocols "${RPC_SUBPROTOCOL}, ${BEARER_SUBPROTOCOL_PREFIX}<token>")`,
        headers: { 'www-authenticate': 'Bearer' },
      };
    }
    if (!tokensEqual(given, auth.token)) {
      return { ok: false, status: 401, code: 'unauthorized', message: 'invalid bearer token', headers: { 'www-authenticate': 'Bearer' } };
    }
    return { ok: true, protocol, principal: OPERATOR };
  }
  if (!isLoopback(auth.bind)) {
    return { ok: false, status: 401, code: 'unauthorized', message: 'no token is configured and the gateway is not bound to loopback' };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(origin)) {
    return {
      ok: false,
      status: 403,
      code: 'forbidden_origin',
      message: 'without a token, only loopback origins may open /rpc from a browser; set gateway.auth.token to allow others',
    };
  }
  return { ok: true, protocol, principal: OPERATOR };
}
