// Signals, updates and queries of the session workflow. Imported by clients (api/) too,
// so this file holds definitions only.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DurableSessionEvent } from '../contracts/events.js';
import type { SessionMessage, SessionState, SubmitResult } from '../contracts/session.js';

export const SESSION_WORKFLOW_TYPE = 'sessionWorkflow';

/** A message for the session; durable as soon as Temporal accepts it. */
export const messageSignal = defineSignal<[SessionMessage]>('message');
/** The same as `message`, answered at once with the message id and whether it was a duplicate. */
export const submitUpdate = defineUpdate<SubmitResult, [SessionMessage]>('submit');
export const cancelSignal = defineSignal<[CancelRequest?]>('cancel');
export const resetSignal = defineSignal('reset');

export const stateQuery = defineQuery<SessionState>('state');
export const eventsQuery = defineQuery<EventsPage, [EventsRequest?]>('events');

export interface CancelRequest {
  reason?: string;
  /** Also drop the messages waiting in the queue (each gets `turn.cancelled`). */
  clearQueue?: boolean;
}

export interface EventsRequest {
  afterSeq?: number;
  limit?: number;
}

export interface EventsPage {
  events: DurableSessionEvent[];
  /** The newest seq recorded; a page that ends below it has more to read. */
  lastSeq: number;
  /** The oldest seq still held; older events were dropped from the bounded window. */
  firstSeq: number;
}
