// Soak (issue 9): `switchyard start` under mixed load for N minutes, the API's and the
// worker's memory sampled every few seconds, then a trend (least-squares slope, MiB per
// hour) over the run after its warm-up. Agents run the real `claude` CLI on the fake
// Messages API. Load, all at once:
//   - webhooks: POST /hooks/agent at --rate messages per second over --sessions sessions
//     (one in ten a repeat of an earlier delivery id, which must be deduplicated);
//   - RPC: clients calling gateway.health, gateway.status, sessions.list and sessions.get;
//   - subscriptions: clients subscribed to sessions (and to "*"), re-subscribing now and then;
//   - turns: every accepted message is a turn of the real CLI.
// Writes bench/results/soak-<time>.csv (git-ignored) and prints the summary.
//
//   npx tsx bench/soak.ts --minutes 30 [--rate 0.5] [--sessions 8] [--sample 5] [--rpc-clients 4] [--subscribers 4]
//                         [--max-turns-per-run N]   (worker.maxTurnsPerRun: how often sessions continue as new)
//                         [--heap-every M]          (every M minutes, the worker's V8 heaps after a full GC, read
//                                                    through its inspector: bench/support/heap-probe.ts)
//                         [--snapshots]             (with --heap-every: heap snapshots of the worker's main and
//                                                    workflow threads after warm-up and at the end, to compare)
//                         [--heap-of api]           (probe the API's heap instead of the worker's: one process
//                                                    per run, as both would want the inspector's port)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { RpcClient, RpcResponseError } from '../client/rpc-client.js';
import { startFakeAnthropic } from '../test/support/fake-anthropic.js';
import { API, startSwitchyard, WORKER } from '../test/support/started-gateway.js';
import { describeMachine } from './machine.js';
import { nativeMemory, rssBytes } from './process-memory.js';
import { readHeaps, WORKFLOW_THREAD, writeHeapSnapshot, type HeapReading } from './support/heap-probe.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '0.5' },
    sessions: { type: 'string', default: '8' },
    sample: { type: 'string', default: '5' },
    'rpc-clients': { type: 'string', default: '4' },
    subscribers: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '0.2' },
    'max-turns-per-run': { type: 'string' },
    'heap-every': { type: 'string' },
    snapshots: { type: 'boolean', default: false },
    'heap-of': { type: 'string', default: 'worker' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const sessionCount = Number(values.sessions);
const sampleSeconds = Number(values.sample);
const rpcClients = Number(values['rpc-clients']);
const subscribers = Number(values.subscribers);
const warmupFraction = Number(values.warmup);
const maxTurnsPerRun = values['max-turns-per-run'] === undefined ? undefined : Number(values['max-turns-per-run']);
const heapEveryMinutes = values['heap-every'] === undefined ? undefined : Number(values['heap-every']);

interface Sample {
  t: number;
  apiMiB: number;
  workerMiB: number;
  /** Where the worker's resident memory lives (bench/process-memory.ts nativeMemory), MiB. */
  workerBrkMiB: number;
  workerArenasMiB: number;
  workerOtherAnonMiB: number;
  sent: number;
  duplicatesSent: number;
  completed: number;
  rpcCalls: number;
  rpcErrors: number;
  events: number;
}

function rssMiB(pid: number | undefined): number {
  const bytes = pid === undefined ? undefined : rssBytes(pid);
  return bytes === undefined ? Number.NaN : bytes / 2 ** 20;
}

/** Least-squares slope of y over x (x in seconds), in y per hour. */
export function slopePerHour(points: Array<{ x: number; y: number }>): number {
  const valid = points.filter((p) => Number.isFinite(p.y));
  if (valid.length < 2) return Number.NaN;
  const n = valid.length;
  const mx = valid.reduce((s, p) => s + p.x, 0) / n;
  const my = valid.reduce((s, p) => s + p.y, 0) / n;
  const sxx = valid.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const sxy = valid.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  return sxx === 0 ? 0 : (sxy / sxx) * 3600;
}

const fake = await startFakeAnthropic();
console.error(`soak: starting switchyard (${minutes} min, ${rate} msg/s over ${sessionCount} sessions, ${rpcClients} RPC clients, ${subscribers} subscribers)…`);
const gateway = await startSwitchyard({ fake, label: 'soak', config: { log: { level: 'warn' }, ...(maxTurnsPerRun ? { worker: { maxTurnsPerRun } } : {}) } });
const run = Date.now().toString(36);
const sessionKeys = Array.from({ length: sessionCount }, (_, i) => `agent:main:soak-${run}-${i}`);
const counters = { sent: 0, duplicatesSent: 0, rpcCalls: 0, rpcErrors: 0, events: 0 };
/** RPC errors by code (or error name): -32001 is a sessions.get before that session's first message. */
const rpcErrorsByCode: Record<string, number> = {};
const countRpcError = (err: unknown) => {
  counters.rpcErrors += 1;
  const code = err instanceof RpcResponseError ? String(err.code) : err instanceof Error ? err.name : 'unknown';
  rpcErrorsByCode[code] = (rpcErrorsByCode[code] ?? 0) + 1;
};
const rpcUrl = `${gateway.api.replace(/^http/, 'ws')}/rpc`;
const deadline = Date.now() + minutes * 60_000;
const running = () => Date.now() < deadline;

async function webhookLoad(): Promise<void> {
  const sentIds: string[] = [];
  for (let i = 0; running(); i++) {
    const repeat = i % 10 === 9 && sentIds.length > 0;
    const id = repeat ? sentIds[Math.floor(Math.random() * sentIds.length)]! : `soak-${run}-${i}`;
    const sessionKey = sessionKeys[Number(id.split('-').at(-1)) % sessionCount]!;
    try {
      const res = await fetch(`${gateway.api}/hooks/agent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: id, sessionKey, idempotencyKey: id }),
      });
      await res.arrayBuffer();
      if (res.status === 202) {
        counters.sent += repeat ? 0 : 1;
        counters.duplicatesSent += repeat ? 1 : 0;
        if (!repeat) sentIds.push(id);
      }
    } catch {
      // counted by the missing completions
    }
    await sleep(1000 / rate);
  }
}

async function rpcLoad(index: number): Promise<void> {
  while (running()) {
    let client: RpcClient | undefined;
    try {
      client = await RpcClient.connect(rpcUrl);
      // A connection lives for a few hundred calls, then a new one: connects are load too.
      for (let i = 0; i < 300 && running(); i++) {
        const key = sessionKeys[(index + i) % sessionCount]!;
        const [method, params] = ([
          ['gateway.health', {}],
          ['gateway.status', {}],
          ['sessions.list', { limit: 20 }],
          ['sessions.get', { sessionKey: key }],
        ] as const)[i % 4]!;
        counters.rpcCalls += 1;
        await client.call(method, params).catch(countRpcError);
        await sleep(100);
      }
    } catch (err) {
      countRpcError(err);
      await sleep(1000);
    } finally {
      await client?.close().catch(() => undefined);
    }
  }
}

async function subscriberLoad(index: number): Promise<void> {
  while (running()) {
    let client: RpcClient | undefined;
    try {
      client = await RpcClient.connect(rpcUrl);
      const sessionKey = index === 0 ? '*' : sessionKeys[index % sessionCount]!;
      const stream = await client.subscribe(index === 0 ? { sessionKey } : { sessionKey, afterSeq: 0 });
      const until = Math.min(deadline, Date.now() + 60_000);
      const reading = (async () => {
        for await (const _event of stream) counters.events += 1;
      })();
      while (Date.now() < until) await sleep(500);
      await stream.unsubscribe().catch(() => undefined);
      await client.close();
      await reading.catch(() => undefined);
    } catch {
      await client?.close().catch(() => undefined);
      await sleep(1000);
    }
  }
}

async function completedTurns(): Promise<number> {
  let total = 0;
  for (const key of sessionKeys) total += await gateway.sessions.state(key).then((s) => s.turnCount, () => 0);
  return total;
}

const apiPid = () => gateway.currentChild(API);
const workerPid = () => gateway.currentChild(WORKER);

function workerRegions(): Pick<Sample, 'workerBrkMiB' | 'workerArenasMiB' | 'workerOtherAnonMiB'> {
  const pid = workerPid();
  try {
    if (pid === undefined) throw new Error('no worker');
    const regions = nativeMemory(pid);
    return { workerBrkMiB: regions.brkHeap / 2 ** 20, workerArenasMiB: regions.threadArenas / 2 ** 20, workerOtherAnonMiB: regions.otherAnonymous / 2 ** 20 };
  } catch {
    return { workerBrkMiB: Number.NaN, workerArenasMiB: Number.NaN, workerOtherAnonMiB: Number.NaN };
  }
}

/** The worker's malloc tuning as its process really has it (supervisor/worker-malloc.ts), from /proc. */
function workerMallocEnv(): Record<string, string> {
  const pid = workerPid();
  if (pid === undefined) return {};
  try {
    const vars = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return Object.fromEntries(vars.filter((v) => v.startsWith('MALLOC_') || v.startsWith('GLIBC_TUNABLES=')).map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]));
  } catch {
    return {};
  }
}

interface HeapSample extends HeapReading {
  t: number;
}
const heapSamples: HeapSample[] = [];
const resultsDir = path.resolve(import.meta.dirname, 'results');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');

/** The worker's main-thread and workflow-thread heap snapshots, named for when they were taken. */
async function snapshotWorker(when: string): Promise<void> {
  const pid = workerPid();
  if (pid === undefined) return;
  mkdirSync(resultsDir, { recursive: true });
  for (const [thread, name] of [[undefined, 'main'], [WORKFLOW_THREAD, 'workflows']] as const) {
    const file = path.join(resultsDir, `soak-${stamp}-worker-${name}-${when}.heapsnapshot`);
    await writeHeapSnapshot(pid, file, thread).then(
      () => console.error(`soak: wrote ${path.relative(process.cwd(), file)}`),
      (error: Error) => console.error(`soak: no ${name} snapshot: ${error.message}`),
    );
  }
}

const workflowThreadUsed = (reading: HeapReading) => reading.threads.find((t) => WORKFLOW_THREAD.test(t.url))?.used ?? Number.NaN;

const probedPid = values['heap-of'] === 'api' ? apiPid : workerPid;

async function heapLoad(everyMinutes: number): Promise<void> {
  let snapshotted = false;
  while (running()) {
    await sleep(Math.min(everyMinutes * 60_000, Math.max(0, deadline - Date.now())));
    const pid = probedPid();
    if (pid === undefined) continue;
    try {
      const reading = { t: (Date.now() - started) / 1000, ...(await readHeaps(pid)) };
      heapSamples.push(reading);
      console.error(`soak: ${reading.t.toFixed(0)} s  ${values['heap-of']} heap after GC: main ${(reading.mainUsed / 2 ** 20).toFixed(1)} MiB, ${Number.isFinite(workflowThreadUsed(reading)) ? `workflow thread ${(workflowThreadUsed(reading) / 2 ** 20).toFixed(1)} MiB, ` : ''}external ${(reading.external / 2 ** 20).toFixed(1)} MiB`);
      if (values.snapshots && !snapshotted && reading.t >= minutes * 60 * warmupFraction) {
        snapshotted = true;
        await snapshotWorker('early');
      }
    } catch (error) {
      console.error(`soak: heap probe failed: ${(error as Error).message}`);
    }
  }
  if (values.snapshots) await snapshotWorker('late');
}

const samples: Sample[] = [];
const started = Date.now();
const loads = [...(heapEveryMinutes ? [heapLoad(heapEveryMinutes)] : []), webhookLoad(), ...Array.from({ length: rpcClients }, (_, i) => rpcLoad(i)), ...Array.from({ length: subscribers }, (_, i) => subscriberLoad(i))];
while (running()) {
  samples.push({
    t: (Date.now() - started) / 1000,
    apiMiB: rssMiB(apiPid()),
    workerMiB: rssMiB(workerPid()),
    ...workerRegions(),
    completed: await completedTurns(),
    ...counters,
  });
  const last = samples.at(-1)!;
  console.error(`soak: ${last.t.toFixed(0)} s  api ${last.apiMiB.toFixed(1)} MiB  worker ${last.workerMiB.toFixed(1)} MiB (malloc ${last.workerBrkMiB.toFixed(0)}+${last.workerArenasMiB.toFixed(0)}, other anon ${last.workerOtherAnonMiB.toFixed(0)})  sent ${last.sent} (+${last.duplicatesSent} repeats)  completed ${last.completed}  rpc ${last.rpcCalls} (${last.rpcErrors} errors)  events ${last.events}`);
  await sleep(sampleSeconds * 1000);
}
await Promise.all(loads);
// Let the turns still queued finish, then one last count.
const drainUntil = Date.now() + 300_000;
while ((await completedTurns()) < counters.sent && Date.now() < drainUntil) await sleep(2000);
const completed = await completedTurns();

mkdirSync(resultsDir, { recursive: true });
const csvFile = path.join(resultsDir, `soak-${stamp}.csv`);
writeFileSync(
  csvFile,
  ['t_s,api_rss_mib,worker_rss_mib,worker_brk_mib,worker_arenas_mib,worker_other_anon_mib,sent,duplicates_sent,completed,rpc_calls,rpc_errors,events', ...samples.map((s) => [s.t.toFixed(1), s.apiMiB.toFixed(2), s.workerMiB.toFixed(2), s.workerBrkMiB.toFixed(2), s.workerArenasMiB.toFixed(2), s.workerOtherAnonMiB.toFixed(2), s.sent, s.duplicatesSent, s.completed, s.rpcCalls, s.rpcErrors, s.events].join(','))].join('\n') + '\n',
);

const afterWarmup = samples.filter((s) => s.t >= samples.at(-1)!.t * warmupFraction);
const trend = (pick: (s: Sample) => number) => slopePerHour(afterWarmup.map((s) => ({ x: s.t, y: pick(s) })));
const summary = {
  machine: describeMachine(),
  minutes,
  maxTurnsPerRun: maxTurnsPerRun ?? 'default',
  samples: samples.length,
  sent: counters.sent,
  duplicatesSent: counters.duplicatesSent,
  completed,
  rpcCalls: counters.rpcCalls,
  rpcErrors: counters.rpcErrors,
  rpcErrorsByCode,
  events: counters.events,
  apiMiB: { first: afterWarmup[0]?.apiMiB, last: afterWarmup.at(-1)?.apiMiB, max: Math.max(...samples.map((s) => s.apiMiB).filter(Number.isFinite)), slopeMiBPerHour: trend((s) => s.apiMiB) },
  workerMiB: { first: afterWarmup[0]?.workerMiB, last: afterWarmup.at(-1)?.workerMiB, max: Math.max(...samples.map((s) => s.workerMiB).filter(Number.isFinite)), slopeMiBPerHour: trend((s) => s.workerMiB) },
  workerRegionSlopesMiBPerHour: { brk: trend((s) => s.workerBrkMiB), arenas: trend((s) => s.workerArenasMiB), otherAnonymous: trend((s) => s.workerOtherAnonMiB) },
  workerMallocEnv: workerMallocEnv(),
  ...(heapSamples.length
    ? {
        heapAfterGcMiB: {
          of: values['heap-of'],
          main: heapSamples.map((h) => +(h.mainUsed / 2 ** 20).toFixed(1)),
          workflowThread: heapSamples.map((h) => +(workflowThreadUsed(h) / 2 ** 20).toFixed(1)),
          external: heapSamples.map((h) => +(h.external / 2 ** 20).toFixed(1)),
          rss: heapSamples.map((h) => +(h.rss / 2 ** 20).toFixed(1)),
          slopeMiBPerHour: {
            main: slopePerHour(heapSamples.map((h) => ({ x: h.t, y: h.mainUsed / 2 ** 20 }))),
            workflowThread: slopePerHour(heapSamples.map((h) => ({ x: h.t, y: workflowThreadUsed(h) / 2 ** 20 }))),
          },
        },
      }
    : {}),
  csv: path.relative(process.cwd(), csvFile),
};
console.log(JSON.stringify(summary, null, 2));
await gateway.stop();
await fake.close();
process.exit(completed >= counters.sent ? 0 : 1);
