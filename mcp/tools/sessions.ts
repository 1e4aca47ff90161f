// sessions_*: the conversations the gateway runs, one per session key `agent:<agentId>:<scope>`.
import { methodTool } from '../tool.js';

export const sessionTools = [
  methodTool('sessions.list', {
    name: 'sessions_list',
    title: 'List sessions',
    description:
      'Lists the gateway\'s sessions (one conversation each, keyed `agent:<agentId>:<scope>`), optionally only those of one `agent`, `channel` or `state` (idle, running, cancelling). Running sessions only unless `includeClosed`. A session started a moment ago may not be listed yet.',
    readOnly: true,
  }),
  methodTool('sessions.get', {
    name: 'sessions_get',
    title: 'Get a session',
    description:
      "One session's current state: idle, running or cancelling; the queued messages; the running turn; how many turns it has run, their cost, and `lastSeq` (its newest event, for sessions_history). Fails with \"Session not found\" for a session that was never sent a message.",
    readOnly: true,
  }),
  methodTool('sessions.send', {
    name: 'sessions_send',
    title: 'Send a message to a session',
    description:
      "Sends `message` to an agent's session (created if needed); that agent then runs a turn to answer it. Returns as soon as the gateway holds the message, with its `messageId`: it does not wait for the answer. Read the answer later with sessions_history (the turn.completed event's data.result; sessions_get says whether it is still running). Name the session with `sessionKey` (`agent:<agentId>:<scope>`) or just an `agent` (its main session); with neither, `agent:main:main`. Sending to your own session queues another turn for yourself after this one. Reusing an `idempotencyKey` makes a retry safe: it is not run twice.",
    readOnly: false,
  }),
  methodTool('sessions.history', {
    name: 'sessions_history',
    title: 'Read a session\'s events',
    description:
      "A session's recorded events after `afterSeq` (0: from the oldest kept), oldest first: turn.queued (a message arrived), turn.started, turn.completed (data.result is the agent's answer), turn.failed (data.reason), turn.cancelled. While `more` is true, call again with `afterSeq` = the last event's seq. Use a small `limit` to save context.",
    readOnly: true,
  }),
];
