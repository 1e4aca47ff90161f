// The core method table: every method the gateway serves on /rpc. A module that adds
// methods (cron, channels, ...) defines them with `defineMethod` in its own file and
// appends its list here; docs/rpc.md, docs/rpc.schema.json and the client's types follow.
import type { TableOf } from '../method.js';
import { channelMethods } from './channels.js';
import { configMethods } from './config.js';
import { cronMethods } from './cron.js';
import { gatewayMethods } from './gateway.js';
import { sessionMethods } from './sessions.js';

export const coreMethods = [...gatewayMethods, ...configMethods, ...sessionMethods, ...cronMethods, ...channelMethods] as const;

/** Method name → entry, for typed clients: `ParamsOf<CoreMethods['sessions.send']>`. */
export type CoreMethods = TableOf<typeof coreMethods>;
export type CoreMethodName = keyof CoreMethods;
