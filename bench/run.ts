// `npm run bench`: every benchmark, each beside its baseline from the same run, printed as
// Markdown. `npm run bench -- --write-docs` also writes the sections that ran into
// docs/benchmarks.md (the others stay as they were).
//   npm run bench -- --only turn-overhead --runs 20
//   npm run bench -- --only sessions-at-scale --sessions 20 --in-flight 3   # a quick try
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from './machine.js';
import { benchRpc, rpcTable } from './rpc.js';
import { benchSessionsAtScale, parseSessionsAtScaleArgs, sessionsAtScaleTable } from './sessions-at-scale.js';
import { benchTurnOverhead, turnOverheadTable } from './turn-overhead.js';
import { benchWebhooks, webhooksTable } from './webhooks.js';

interface Bench {
  name: string;
  title: string;
  what: string;
  run: (options: { runs: number }) => Promise<string>;
  /** Flags of this benchmark that change what it measures, repeated in the command it prints. */
  flags?: () => string;
}

const SCALE_FLAGS = ['sessions', 'in-flight', 'max-concurrent-turns', 'open-concurrency', 'open-with'] as const;

const BENCHES: Bench[] = [
  {
    name: 'turn-overhead',
    title: 'Turn overhead: gateway vs. bare `claude -p`',
    what:
      'Message in (`POST /hooks/agent`, sync mode, a fresh session each time) to `turn.completed` back, through signalWithStart, ' +
      'the session workflow, the agent task queue and the CLI, against bare `claude -p` with the same flags on the same fake ' +
      'Messages API, interleaved in one run. Target: ratio of medians under 1.10. The agent runs with the default config, ' +
      'so without a hooks settings file (docs/hooks.md: any settings file makes the CLI start 110 to 150 ms later). ' +
      'What the overhead is made of, measured from the workflow history of single turns: signalWithStart 7 to 20 ms, the ' +
      'first workflow task about 26 ms, the activity dispatched 5 to 10 ms later, and after the CLI exits 25 to 30 ms until ' +
      'the HTTP answer. On this 2-core VM the ratio moves with the load on the machine (runs of the same code right after a ' +
      'test suite came out 0.05 to 0.1 higher), so take it on a quiet machine.',
    run: async ({ runs }) => turnOverheadTable(await benchTurnOverhead(runs)),
  },
  {
    name: 'rpc',
    title: 'WebSocket JSON-RPC',
    what:
      'Round trip of `gateway.health` with 1, 100 and 1000 connections open; the API process\'s memory with 10,000 idle ' +
      'connections; fan-out of one event to 100 subscribers. The API runs as its own process (`api/main.ts`).',
    run: async () => rpcTable(await benchRpc()),
  },
  {
    name: 'webhooks',
    title: 'Webhook ingest: gateway vs. bare signalWithStart vs. bare fastify',
    what:
      'Durable ingest in async mode (202 only once Temporal holds the message), measured with autocannon against, in the same ' +
      'run, a bare loop of `signalWithStart` calls at the same concurrency (the engine\'s limit) and fastify answering 202 ' +
      "without Temporal (the HTTP layer's limit). API and worker run as their own processes. Target: at least 80% of bare signalWithStart.",
    run: async () => webhooksTable(await benchWebhooks()),
  },
  {
    name: 'sessions-at-scale',
    title: 'Sessions at scale: open sessions, turns in flight, worker memory',
    what:
      'The gateway as `switchyard start` runs it (API and worker in processes of their own) with agents on the real `claude` CLI ' +
      'and the fake Messages API. Sessions are opened with one turn each (an open session is a running, idle session workflow ' +
      'that holds its Claude session id; those the timed turns do not go to are opened by a stand-in CLI unless `--open-with claude`), then many turns are sent at once; deliver and list times sit beside the same ' +
      "gateway's with only the warm-up sessions open. Memory from /proc: the worker's RSS, and the PSS of the CLI processes it runs " +
      '(PSS shares the binary\'s pages among them). The processes run from the sources through tsx, as `npm start` does; the image runs dist/.',
    run: async ({ runs }) => sessionsAtScaleTable(await benchSessionsAtScale({ ...parseSessionsAtScaleArgs(process.argv.slice(2)), runs: Math.min(runs, 10) })),
    flags: () => SCALE_FLAGS.map((flag) => (values[flag] === undefined ? '' : ` --${flag} ${values[flag]}`)).join(''),
  },
];

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    runs: { type: 'string', default: '20' },
    'write-docs': { type: 'boolean', default: false },
    sessions: { type: 'string' },
    'in-flight': { type: 'string' },
    'max-concurrent-turns': { type: 'string' },
    'open-concurrency': { type: 'string' },
    'open-with': { type: 'string' },
  },
});
const selected = BENCHES.filter((bench) => !values.only || values.only.includes(bench.name));
const machine = describeMachine();
const sections: string[] = [];
for (const bench of selected) {
  console.error(`bench: ${bench.name}…`);
  const table = await bench.run({ runs: Number(values.runs) });
  const section = `## ${bench.title}\n\n${bench.what}\n\n\`npm run bench -- --only ${bench.name} --runs ${values.runs}${bench.flags?.() ?? ''}\`\n\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine}.\n\n${table}\n`;
  console.log(section);
  sections.push(section);
}

if (values['write-docs']) {
  const file = path.join(import.meta.dirname, '..', 'docs', 'benchmarks.md');
  // Sections of benchmarks that did not run this time are kept, in the order of BENCHES.
  const previous = new Map<string, string>();
  if (existsSync(file)) {
    for (const part of readFileSync(file, 'utf8').split(/^(?=## )/m).slice(1)) previous.set(part.split('\n')[0]!, part.replace(/\n*$/, '\n'));
  }
  const fresh = new Map(selected.map((bench, index) => [`## ${bench.title}`, sections[index]!]));
  const ordered = BENCHES.map((bench) => fresh.get(`## ${bench.title}`) ?? previous.get(`## ${bench.title}`)).filter((part) => part !== undefined);
  writeFileSync(
    file,
    [
      '# Benchmarks',
      '',
      '<!-- Written by `npm run bench -- --write-docs`. -->',
      '',
      'Every figure is measured beside its baseline in the same run, on the same machine, and quoted as medians',
      '(and tails) and ratios. The fake Anthropic Messages API of the test suite stands in for the real one, so the',
      "figures are the gateway's own cost, not a model's.",
      '',
      'Each section names the machine and the day it was measured on (a run of some benchmarks leaves the others as they were).',
      '',
      ...ordered,
    ].join('\n'),
  );
  console.error(`bench: wrote ${file}`);
}
