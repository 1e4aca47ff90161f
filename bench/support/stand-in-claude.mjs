#!/usr/bin/env node
// Opens sessions for bench/sessions-at-scale.ts without the real CLI's 1.4 s of start-up:
// an open session is a session workflow that has had a turn and waits, and which program
// answered that turn does not change what the benchmark measures (the worker's memory per
// open session, list and deliver times). It reads the prompt, then prints what `claude -p
// --output-format stream-json` prints at the least: an init line and a successful result,
// for the session id it was given. The turns the benchmark times run the real CLI.
import { randomUUID } from 'node:crypto';

const args = process.argv.slice(2);
const flag = args.findIndex((arg) => arg === '--session-id' || arg === '--resume');
const sessionId = flag >= 0 ? args[flag + 1] : randomUUID();
process.stdin.resume();
process.stdin.on('end', () => {
  const line = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
  line({ type: 'system', subtype: 'init', session_id: sessionId });
  line({ type: 'result', subtype: 'success', is_error: false, result: 'opened', session_id: sessionId, total_cost_usd: 0, usage: {}, num_turns: 1, duration_ms: 0 });
});
