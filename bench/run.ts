// `npm run bench`: every benchmark, each beside its baseline from the same run, printed as
// Markdown. `npm run bench -- --write-docs` also rewrites docs/benchmarks.md.
//   npm run bench -- --only turn-overhead --runs 20
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from './machine.js';
import { benchRpc, rpcTable } from './rpc.js';
import { benchTurnOverhead, turnOverheadTable } from './turn-overhead.js';
import { benchWebhooks, webhooksTable } from './webhooks.js';

interface Bench {
  name: string;
  title: string;
  what: string;
  run: (options: { runs: number }) => Promise<string>;
}

const BENCHES: Bench[] = [
  {
    name: 'turn-overhead',
    title: 'Turn overhead: gateway vs. bare `claude -p`',
    what:
      'Message in (`POST /hooks/agent`, sync mode, a fresh session each time) to `turn.completed` back, through signalWithStart, ' +
      'the session workflow, the agent task queue and the CLI, against bare `claude -p` with the same flags on the same fake ' +
      'Messages API, interleaved in one run. Target: ratio of medians under 1.10.',
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
];

const { values } = parseArgs({
  options: { only: { type: 'string', multiple: true }, runs: { type: 'string', default: '20' }, 'write-docs': { type: 'boolean', default: false } },
});
const selected = BENCHES.filter((bench) => !values.only || values.only.includes(bench.name));
const machine = describeMachine();
const sections: string[] = [];
for (const bench of selected) {
  console.error(`bench: ${bench.name}…`);
  const table = await bench.run({ runs: Number(values.runs) });
  const section = `## ${bench.title}\n\n${bench.what}\n\n\`npm run bench -- --only ${bench.name} --runs ${values.runs}\`\n\n${table}\n`;
  console.log(section);
  sections.push(section);
}

if (values['write-docs']) {
  const file = path.join(import.meta.dirname, '..', 'docs', 'benchmarks.md');
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
      `Machine: ${machine}. Measured ${new Date().toISOString().slice(0, 10)}.`,
      '',
      ...sections,
    ].join('\n'),
  );
  console.error(`bench: wrote ${file}`);
}
