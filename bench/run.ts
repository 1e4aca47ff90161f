// `npm run bench`: every benchmark, each beside its baseline from the same run, printed as
// Markdown. `npm run bench -- --write-docs` also rewrites docs/benchmarks.md.
//   npm run bench -- --only turn-overhead --runs 20
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from './machine.js';
import { benchTurnOverhead, turnOverheadTable } from './turn-overhead.js';

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
