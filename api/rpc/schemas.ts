// zod schemas shared by the method table's entries (and so by docs/rpc.schema.json).
import { z } from 'zod';
import { DURABLE_EVENT_TYPES, LIVE_EVENT_TYPES } from '../../contracts/events.js';

/** `agent:<agentId>:<scope>`, as contracts/names.ts parses it. */
export const SessionKey = z
  .string()
  .regex(/^agent:[A-Za-z0-9][A-Za-z0-9_.-]*:.+$/, { message: 'expected agent:<agentId>:<scope>, e.g. agent:main:main' })
  .max(1024)
  .describe('A session key: agent:<agentId>:<scope>, e.g. agent:main:main.');

export const Identifier = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: 'expected letters, digits, "_", "-" or "." (not starting with a symbol)' })
  .max(200);

export const Seq = z.number().int().min(0);

/** Who on a channel a message is from: any printable text without control characters. */
export const Peer = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\u0000-\u001f\u007f]+$/, { message: 'expected printable text without control characters' });

export const EventType = z.enum([...DURABLE_EVENT_TYPES, ...LIVE_EVENT_TYPES]);

export const SessionEventSchema = z.object({
  sessionKey: z.string(),
  seq: z.number().int().positive().optional().describe('Durable events only: increasing per session, never reused.'),
  turnId: z.string(),
  type: EventType,
  data: z.record(z.string(), z.unknown()),
  ts: z.number().describe('Milliseconds since the epoch.'),
});

export const SessionStatus = z.enum(['idle', 'running', 'cancelling']);

export const SessionStateSchema = z.object({
  sessionKey: z.string(),
  agentId: z.string(),
  status: SessionStatus,
  queueLength: z.number().int(),
  currentTurn: z.object({ turnId: z.string(), messageIds: z.array(z.string()), startedAt: z.number() }).optional(),
  claudeSessionId: z.string().optional(),
  turnCount: z.number().int(),
  totalCostUsd: z.number(),
  lastSeq: z.number().int(),
});

export const Accepted = z.object({ accepted: z.literal(true), sessionKey: z.string() });

/** The `sessions.event` notification's params. */
export const SessionEventNotification = SessionEventSchema.extend({
  subscription: z.string().describe('The id `sessions.subscribe` returned.'),
});

/** The `sessions.gap` notification's params. */
export const SessionGapNotification = z.object({
  subscription: z.string(),
  sessionKey: z.string(),
  afterSeq: z.number().int().describe('The last seq delivered before the gap.'),
  beforeSeq: z.number().int().describe('The next seq delivered; the ones in between could not be read (use sessions.history, or accept the loss).'),
  reason: z.string(),
});

/** The `connection.closing` notification's params: the last frame before the server closes. */
export const ConnectionClosingNotification = z.object({
  code: z.number().int().describe('The WebSocket close code that follows: 1001 shutdown, 1013 too slow.'),
  reason: z.string(),
  detail: z.string(),
});
