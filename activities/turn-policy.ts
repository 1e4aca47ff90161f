// What the session workflow knows about an agent when a turn begins: the agent's policy and
// the time. It comes with the message (the API reads the policy from config, the time is the
// later of the message's receipt and the session's last event) or, for messages accepted
// before messages carried a policy, from the `beginTurn` local activity.
import type { AgentPolicy } from '../contracts/session.js';

export interface TurnPolicy extends AgentPolicy {
  /** Milliseconds since the epoch when the turn began. */
  now: number;
}
