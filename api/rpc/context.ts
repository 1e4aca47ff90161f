// What a method handler can reach: the gateway's services (shared by every connection)
// and its own connection (subscriptions, notifications).
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import type { EventHub } from '../event-hub.js';
import type { Readiness } from '../readiness.js';
import type { SessionService } from '../session-service.js';
import type { ChannelManager } from '../../channels/manager.js';
import type { RpcPrincipal } from './scopes.js';
import type { SessionSubscription } from './subscription.js';

export interface RpcStats {
  connections: number;
  subscriptions: number;
}

export interface RpcServices {
  config: Config;
  client: Client;
  sessions: SessionService;
  hub: EventHub;
  readiness: () => Promise<Readiness>;
  /** Milliseconds since the epoch when this API process started serving. */
  startedAt: number;
  version: string;
  stats: () => RpcStats;
  /** The channel adapters this API process supervises (absent: none, channels.* answer not found). */
  channels?: ChannelManager;
  /** Counts calls by method and code, when the gateway keeps metrics. */
  metrics?: GatewayMetrics;
}

/** The calling connection, as handlers see it. */
export interface RpcPeer {
  readonly id: string;
  /** Who opened the connection: the operator, or a channel adapter (api/rpc/scopes.ts). */
  readonly principal: RpcPrincipal;
  readonly subscriptions: ReadonlyMap<string, SessionSubscription>;
  addSubscription(subscription: SessionSubscription): void;
  removeSubscription(id: string): boolean;
  notify(method: string, params: Record<string, unknown>): void;
  /** The client cannot keep up: a final notification, then close (1013). */
  closeSlow(detail: string): void;
}

export interface RpcCallContext {
  services: RpcServices;
  peer: RpcPeer;
  logger: Logger;
  /** The request's id (undefined for a notification). */
  requestId: string | number | null | undefined;
  /**
   * Runs `task` once this call's response has been queued for sending (for a notification,
   * once the handler has finished), so that what it sends follows the response.
   */
  afterResponse(task: () => void): void;
}
