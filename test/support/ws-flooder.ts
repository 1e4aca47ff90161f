// A WebSocket flooder in a process of its own (test/abuse.test.ts), so that its CPU work does
// not delay the client whose latency the test measures: it sends gateway.health batches to
// /rpc as fast as the socket takes them, reconnects whenever the server closes it, and on
// SIGTERM prints what happened as one JSON line.
//
//   node --import tsx test/support/ws-flooder.ts ws://127.0.0.1:PORT/rpc
import { once } from 'node:events';
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

const url = process.argv[2];
if (!url) throw new Error('usage: ws-flooder.ts ws://host:port/rpc');

const BATCH_SIZE = 50;
const batch = JSON.stringify(Array.from({ length: BATCH_SIZE }, (_, i) => ({ jsonrpc: '2.0', method: 'gateway.health', id: i })));
const figures = { sent: 0, throttled: 0, answered: 0, connections: 0, refusedUpgrades: {} as Record<string, number>, closeCodes: {} as Record<string, number> };
let running = true;
process.on('SIGTERM', () => {
  running = false;
});

/** Occurrences of `needle` in `text`: counting, not parsing, keeps the flooder fast. */
function count(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n += 1;
  return n;
}

async function floodOneConnection(): Promise<void> {
  const ws = new WebSocket(url!);
  let open = false;
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('error', () => undefined);
  ws.on('message', (data) => {
    const text = data.toString();
    figures.throttled += count(text, '-32029');
    figures.answered += count(text, '"result"');
  });
  try {
    await once(ws, 'open');
    open = true;
    figures.connections += 1;
  } catch (err) {
    // ws says "Unexpected server response: 429" for an upgrade answered without a 101.
    const status = /server response: (\d+)/.exec((err as Error).message)?.[1] ?? 'other';
    figures.refusedUpgrades[status] = (figures.refusedUpgrades[status] ?? 0) + 1;
    await sleep(50);
    return;
  }
  ws.on('close', () => {
    open = false;
  });
  while (running && open) {
    ws.send(batch);
    figures.sent += BATCH_SIZE;
    if (ws.bufferedAmount > 1_000_000) await sleep(5);
    else if (figures.sent % 500 === 0) await yieldNow();
  }
  if (open) ws.close();
  const code = await closed;
  if (running) figures.closeCodes[code] = (figures.closeCodes[code] ?? 0) + 1;
}

process.stdout.write('flooding\n');
while (running) await floodOneConnection();
process.stdout.write(`${JSON.stringify(figures)}\n`);
