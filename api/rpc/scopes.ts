// Who is calling, and what they may call. A connection is opened either with the gateway
// token (or no token where none is needed): the `operator`, who may call everything; or with
// the token a channel adapter was given (channels/manager.ts): an `adapter`, which may call
// only the methods whose definition lists the `adapter` scope, and only on its own channel's
// sessions (`agent:<agent>:<channel>:<peer>`). The scope of each method is declared once, on
// its definition in the method table (`scopes`), and shown in docs/rpc.md.
import { parseSessionKey } from '../../contracts/names.js';
import { RpcError } from './protocol.js';

export const RPC_SCOPES = ['operator', 'adapter'] as const;
export type RpcScope = (typeof RPC_SCOPES)[number];

export type RpcPrincipal = { scope: 'operator' } | { scope: 'adapter'; channel: string };

export const OPERATOR: RpcPrincipal = Object.freeze({ scope: 'operator' });

/** Adapter tokens start with this, so that a stale one is refused even where no token is needed. */
export const ADAPTER_TOKEN_PREFIX = 'swc_';

/** A method without `scopes` is for the operator only. */
export function methodScopes(method: { scopes?: readonly RpcScope[] }): readonly RpcScope[] {
  return method.scopes ?? ['operator'];
}

export function mayCall(principal: RpcPrincipal, method: { scopes?: readonly RpcScope[] }): boolean {
  return principal.scope === 'operator' || methodScopes(method).includes(principal.scope);
}

export function forbidden(method: string, principal: RpcPrincipal, reason?: string): RpcError {
  return RpcError.app('forbidden', {
    method,
    scope: principal.scope,
    ...(principal.scope === 'adapter' ? { channel: principal.channel } : {}),
    ...(reason ? { reason } : {}),
  });
}

/** Whether `sessionKey` belongs to channel `channel`: its scope is `<channel>:<peer>`. */
export function isChannelSession(sessionKey: string, channel: string): boolean {
  const scope = parseSessionKey(sessionKey)?.scope;
  return scope !== undefined && scope.startsWith(`${channel}:`) && scope.length > channel.length + 1;
}

/** An adapter may touch only its own channel's sessions; the operator, any. */
export function assertSessionAccess(principal: RpcPrincipal, method: string, sessionKey: string): void {
  if (principal.scope === 'adapter' && !isChannelSession(sessionKey, principal.channel)) {
    throw forbidden(method, principal, `an adapter may only use its own channel's sessions (agent:<agent>:${principal.channel}:<peer>)`);
  }
}
