// Sessions at scale: many open sessions, many turns in flight, on the production processes.
//
// The gateway runs as `switchyard start` runs it (supervisor/gateway-supervisor.ts): the API
// and the worker as child processes, here against a Temporal dev server of this run; agents run
// the real `claude` CLI on the fake Messages API. An "open" session is one that has had a turn
// (its workflow runs, idle, holding its Claude session id) and waits for the next message.
// The sessions that the in-flight turns go to are opened by the real CLI; by default the
// others by bench/support/stand-in-claude.mjs (agent `opener`), since what opened a session
// does not change its workflow, and the real CLI's start-up (about 1.4 s of CPU) would make
// 1,000 openings take 40 minutes on 2 cores. `--open-with claude` opens all with the CLI.
//
//   1. baseline, same run: with only warm-up sessions open, deliver (message in → turn.completed,
//      POST /hooks/agent in sync mode to an open session) one turn at a time; list sessions;
//      the worker's memory.
//   2. open N sessions (one turn each, C at a time; worker.maxConcurrentTurns = M).
//   3. at scale: list again (sessions.list over RPC, its largest page; and every session through
//      Temporal visibility); the worker's memory with N sessions open.
//   4. K turns in flight at once on K of the open sessions: each one's deliver time, the list
//      time meanwhile, the worker's peak RSS and the CLI processes' peak PSS.
//
//   npx tsx bench/sessions-at-scale.ts [--sessions 1000] [--in-flight 50] [--max-concurrent-turns <in-flight>]
//                                      [--open-concurrency 8] [--open-with stand-in|claude] [--runs 5]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { RpcClient } from '../client/rpc-client.js';
import { loadConfig } from '../config/load.js';
import { SESSION_WORKFLOW_TYPE } from '../workflows/session-definitions.js';
import { runGateway, type GatewayHandle } from '../supervisor/gateway-supervisor.js';
import { startTestTemporal } from '../test/support/dev-server.js';
import { claudeEnv, startFakeAnthropic } from '../test/support/fake-anthropic.js';
import { freePort } from '../test/support/processes.js';
import { mib, sampleMemory, settledRss, type MemoryPeak } from './process-memory.js';
import { ms, summarize } from './stats.js';

const CLAUDE_BIN = path.resolve(import.meta.dirname, '../node_modules/.bin/claude');
const STAND_IN = path.resolve(import.meta.dirname, 'support/stand-in-claude.mjs');
const OPENERS = ['stand-in', 'claude'] as const;
type Opener = (typeof OPENERS)[number];

export interface SessionsAtScaleOptions {
  /** Sessions opened (one turn each) before the measurements at scale. */
  sessions?: number;
  /** Turns sent at once, to as many open sessions. */
  inFlight?: number;
  /** worker.maxConcurrentTurns: CLI processes the worker runs at once; the rest wait in Temporal. Default: inFlight. */
  maxConcurrentTurns?: number;
  /** Sessions being opened at once. */
  openConcurrency?: number;
  /** Repetitions of each baseline and list measurement. */
  runs?: number;
  /** What answers the opening turn of the sessions no in-flight turn goes to. */
  openWith?: Opener;
}

type Stats = ReturnType<typeof summarize>;

export interface SessionsAtScaleResult {
  sessions: number;
  inFlight: number;
  maxConcurrentTurns: number;
  openConcurrency: number;
  openWith: Opener;
  runs: number;
  warmups: number;
  openSeconds: number;
  deliverIdle: Stats;
  deliverLoaded: Stats;
  listRpcIdle: Stats;
  listRpcAtScale: Stats;
  listRpcLoaded: Stats;
  listAllIdle: Stats;
  listAllAtScale: Stats;
  listedAtScale: number;
  workerRssStart: number;
  workerRssOpen: number;
  loadedPeak: MemoryPeak;
}

const WARMUPS = 2;

export async function benchSessionsAtScale(options: SessionsAtScaleOptions = {}): Promise<SessionsAtScaleResult> {
  const sessions = options.sessions ?? 1000;
  const inFlight = Math.min(options.inFlight ?? 50, sessions);
  // All of them running at once by default: a running `claude` costs about 130 MiB of PSS
  // (measured here), so 50 fit a 24 GiB machine; a lower value shows turns queueing instead.
  const maxConcurrentTurns = options.maxConcurrentTurns ?? inFlight;
  const openConcurrency = options.openConcurrency ?? 8;
  const openWith = options.openWith ?? 'stand-in';
  const runs = options.runs ?? 5;
  const log = (line: string) => console.error(`sessions-at-scale: ${line}`);

  const temporal = await startTestTemporal();
  const fake = await startFakeAnthropic();
  const root = mkdtempSync(path.join(tmpdir(), 'switchyard-bench-scale-'));
  const home = path.join(root, 'home');
  const workDir = path.join(root, 'work');
  mkdirSync(home);
  mkdirSync(workDir);
  const port = await freePort();
  writeFileSync(
    path.join(home, 'config.yaml'),
    YAML.stringify({
      gateway: { port },
      temporal: { address: temporal.address },
      log: { level: 'warn' },
      worker: { maxConcurrentTurns },
      agentDefaults: {
        command: CLAUDE_BIN,
        cwd: workDir,
        env: claudeEnv(fake, path.join(root, 'claude-config')),
        turnTimeout: '30m',
      },
      ...(openWith === 'stand-in' ? { agents: { opener: { command: STAND_IN } } } : {}),
    }),
  );
  const env = { ...process.env, SWITCHYARD_HOME: home };
  const { config } = loadConfig({ cwd: workDir, env });
  let handle: GatewayHandle | undefined;
  let rpc: RpcClient | undefined;
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const run = Date.now().toString(36);
  const key = (label: string, n: number) => `agent:main:scale-${run}-${label}-${n}`;
  // The in-flight turns go to open sessions 0 .. inFlight-1: those are opened by the real CLI.
  const openKey = (n: number) => (n < inFlight || openWith === 'claude' ? key('open', n) : `agent:opener:scale-${run}-open-${n}`);

  try {
    handle = await runGateway({ config, home, flags: [], env, cwd: workDir, log: (line) => log(line.replace(/^switchyard: /, '')), grace: { workerMs: 10_000 } });
    const info = await handle.ready;
    const workerPid = handle.children.get('worker')?.pid;
    if (workerPid === undefined) throw new Error('no worker process');
    rpc = await RpcClient.connect(info.wsUrl.replace('0.0.0.0', '127.0.0.1'));
    const api = info.apiUrl;

    const deliver = async (sessionKey: string, message: string): Promise<number> => {
      const started = performance.now();
      const response = await fetch(`${api}/hooks/agent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message, sessionKey, mode: 'sync', timeoutMs: 1_800_000 }),
      });
      const body = (await response.json()) as { status?: string };
      if (response.status !== 200 || body.status !== 'completed') throw new Error(`turn in ${sessionKey} failed: ${response.status} ${JSON.stringify(body)}`);
      return performance.now() - started;
    };
    const timed = async (what: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await what();
      return performance.now() - started;
    };
    const listRpc = () => timed(() => rpc!.call('sessions.list', { limit: 200 }));
    const query = `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
    const countAll = async () => {
      let count = 0;
      for await (const _ of client.workflow.list({ query, pageSize: 1000 })) count++;
      return count;
    };
    const repeat = async (times: number, measure: () => Promise<number>) => {
      const values: number[] = [];
      for (let i = 0; i < times; i++) values.push(await measure());
      return summarize(values);
    };

    // 1. Baseline: warm-up sessions only.
    for (let i = 0; i < WARMUPS; i++) await deliver(key('warmup', i), 'warm-up');
    const deliverIdle = await repeat(runs, async () => deliver(key('warmup', 0), 'baseline'));
    const listRpcIdle = await repeat(runs, listRpc);
    const listAllIdle = await repeat(runs, () => timed(countAll));
    const workerRssStart = await settledRss(workerPid);
    log(`baseline: deliver p50 ${ms(deliverIdle.p50)}, list p50 ${ms(listRpcIdle.p50)}`);

    // 2. Open the sessions.
    const openStarted = performance.now();
    let next = 0;
    let opened = 0;
    await Promise.all(
      Array.from({ length: Math.min(openConcurrency, sessions) }, async () => {
        while (next < sessions) {
          const n = next++;
          await deliver(openKey(n), `hello ${n}`);
          if (++opened % 50 === 0) log(`${opened}/${sessions} sessions open`);
        }
      }),
    );
    const openSeconds = (performance.now() - openStarted) / 1000;
    // Visibility is eventually consistent: wait until it lists every session before timing lists.
    const expected = sessions + WARMUPS;
    for (const until = Date.now() + 120_000; (await countAll()) < expected && Date.now() < until; ) await new Promise((r) => setTimeout(r, 500));

    // 3. At scale, idle.
    const workerRssOpen = await settledRss(workerPid);
    const listRpcAtScale = await repeat(runs, listRpc);
    let listedAtScale = 0;
    const listAllAtScale = await repeat(runs, () => timed(async () => (listedAtScale = await countAll())));
    log(`${sessions} open: list p50 ${ms(listRpcAtScale.p50)}, all ${listedAtScale} via visibility p50 ${ms(listAllAtScale.p50)}`);

    // 4. K turns in flight at once, on open sessions; lists keep being timed meanwhile.
    const sampler = sampleMemory(workerPid, /claude/);
    let loading = true;
    const listsDuringLoad: number[] = [];
    const listErrors: string[] = [];
    const lister = (async () => {
      while (loading) {
        try {
          listsDuringLoad.push(await listRpc());
        } catch (err) {
          // Counted and reported, never masking a failed turn.
          listErrors.push((err as Error).message);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
    let deliveries: number[];
    try {
      deliveries = await Promise.all(Array.from({ length: inFlight }, (_, n) => deliver(key('open', n), `follow-up ${n}`)));
    } finally {
      loading = false;
      await lister;
    }
    if (listErrors.length > 0) log(`${listErrors.length} sessions.list calls failed during the turns: ${[...new Set(listErrors)].join('; ')}`);
    const loadedPeak = sampler.stop();
    log(`${inFlight} in flight: deliver p50 ${ms(summarize(deliveries).p50)}, worker peak ${mib(loadedPeak.rssBytes)}`);

    return {
      sessions,
      inFlight,
      maxConcurrentTurns,
      openConcurrency,
      openWith,
      runs,
      warmups: WARMUPS,
      openSeconds,
      deliverIdle,
      deliverLoaded: summarize(deliveries),
      listRpcIdle,
      listRpcAtScale,
      listRpcLoaded: summarize(listsDuringLoad),
      listAllIdle,
      listAllAtScale,
      listedAtScale,
      workerRssStart,
      workerRssOpen,
      loadedPeak,
    };
  } finally {
    rpc?.close();
    if (handle) {
      await handle.stop();
      await handle.done;
    }
    await connection.close();
    await fake.close();
    await temporal.teardown();
    rmSync(root, { recursive: true, force: true });
  }
}

export function sessionsAtScaleTable(result: SessionsAtScaleResult): string {
  const { sessions, inFlight, maxConcurrentTurns, warmups } = result;
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
  const row = (what: string, baseline: Stats, measured: Stats) =>
    `| ${what} | ${ms(baseline.p50)} | ${ms(measured.p50)} (p90 ${ms(measured.p90)}) | ${ratio(measured.p50, baseline.p50)} |`;
  const peak = result.loadedPeak;
  return [
    `${sessions} sessions opened with one turn each, ${result.openConcurrency} at a time, in ${result.openSeconds.toFixed(0)} s ` +
      `(${(sessions / result.openSeconds).toFixed(1)} sessions/s; ${
        result.openWith === 'claude' ? 'all by the real CLI' : `the ${inFlight} that the in-flight turns go to by the real CLI, the other ${sessions - inFlight} by a stand-in that answers at once (bench/support/stand-in-claude.mjs)`
      }); then ${inFlight} turns sent at once with worker.maxConcurrentTurns = ` +
      `${maxConcurrentTurns}${inFlight > maxConcurrentTurns ? " (the rest wait in Temporal's task queue)" : ''}. Baselines: the same gateway with ${warmups} sessions open, one turn at a time. ` +
      'Worker RSS is the median of 9 readings over 2 s.',
    '',
    '| measure | baseline (same run) | at scale | ratio of medians |',
    '| --- | ---: | ---: | ---: |',
    row(`deliver: message in → turn.completed, ${inFlight} in flight over ${sessions} open (baseline: 1 turn, idle)`, result.deliverIdle, result.deliverLoaded),
    row(`\`sessions.list\` (RPC, 200 newest) with ${sessions} open, idle (baseline: ${warmups} open)`, result.listRpcIdle, result.listRpcAtScale),
    row(`\`sessions.list\` (RPC, 200 newest) during the ${inFlight} turns`, result.listRpcIdle, result.listRpcLoaded),
    row(`every running session through Temporal visibility (${result.listedAtScale} listed)`, result.listAllIdle, result.listAllAtScale),
    '',
    '| memory | value |',
    '| --- | ---: |',
    `| worker RSS with ${warmups} sessions open (baseline) | ${mib(result.workerRssStart)} |`,
    `| worker RSS with ${sessions} sessions open, idle | ${mib(result.workerRssOpen)} |`,
    `| worker RSS, peak with ${inFlight} turns in flight | ${mib(peak.rssBytes)} |`,
    `| \`claude\` processes, peak PSS together (${peak.childrenAtPeak} running) | ${mib(peak.childrenPssBytes)} |`,
    `| per running \`claude\` process (PSS) | ${peak.childrenAtPeak ? mib(peak.childrenPssBytes / peak.childrenAtPeak) : 'n/a'} |`,
    `| per open idle session in the worker ((open − baseline) / ${sessions}) | ${
      result.workerRssOpen > result.workerRssStart ? `${((result.workerRssOpen - result.workerRssStart) / sessions / 1024).toFixed(1)} KiB` : 'below the noise of RSS'
    } |`,
  ].join('\n');
}

export function parseSessionsAtScaleArgs(argv: string[]): SessionsAtScaleOptions {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: {
      sessions: { type: 'string' },
      'in-flight': { type: 'string' },
      'max-concurrent-turns': { type: 'string' },
      'open-concurrency': { type: 'string' },
      'open-with': { type: 'string' },
    },
  });
  const number = (value: string | boolean | undefined) => (typeof value === 'string' ? Number(value) : undefined);
  const options: SessionsAtScaleOptions = {};
  const set = <K extends 'sessions' | 'inFlight' | 'maxConcurrentTurns' | 'openConcurrency'>(name: K, value: number | undefined) => {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: expected a positive integer`);
    options[name] = value;
  };
  set('sessions', number(values.sessions));
  set('inFlight', number(values['in-flight']));
  set('maxConcurrentTurns', number(values['max-concurrent-turns']));
  set('openConcurrency', number(values['open-concurrency']));
  const openWith = values['open-with'];
  if (openWith !== undefined) {
    if (!OPENERS.includes(openWith as Opener)) throw new Error(`--open-with: expected ${OPENERS.join(' or ')}`);
    options.openWith = openWith as Opener;
  }
  return options;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runsFlag = process.argv.indexOf('--runs');
  const result = await benchSessionsAtScale({ ...parseSessionsAtScaleArgs(process.argv.slice(2)), ...(runsFlag > 0 ? { runs: Number(process.argv[runsFlag + 1]) } : {}) });
  console.log(sessionsAtScaleTable(result));
}
