// Gateway turn vs. bare `claude -p`, same fake Messages API, same run, interleaved.
// The gateway figure is message in (POST /hooks/agent, sync mode) to turn.completed back,
// through signalWithStart, the session workflow, the agent task queue and the CLI.
//
//   npx tsx bench/turn-overhead.ts [--runs 20]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { startTestTemporal } from '../test/support/dev-server.js';
import { claudeEnv, startFakeAnthropic } from '../test/support/fake-anthropic.js';
import { ms, summarize } from './stats.js';

export interface TurnOverheadResult {
  runs: number;
  bare: ReturnType<typeof summarize>;
  gateway: ReturnType<typeof summarize>;
  ratio: number;
  overheadMs: number;
}

export async function benchTurnOverhead(runs = 20): Promise<TurnOverheadResult> {
  const temporal = await startTestTemporal();
  process.env.SWITCHYARD_TEST_TEMPORAL_ADDRESS = temporal.address;
  const { CLAUDE_BIN, postJson, startTestGateway } = await import('../test/support/gateway.js');
  const fake = await startFakeAnthropic();
  const gateway = await startTestGateway({ fake });
  const bareDir = mkdtempSync(path.join(tmpdir(), 'switchyard-bench-'));
  const bareEnv = { ...claudeEnv(fake, path.join(bareDir, 'claude-config')), CLAUDE_CODE_MAX_RETRIES: '0' };

  const bareTurn = async (prompt: string) => {
    const started = performance.now();
    const result = await execa(CLAUDE_BIN, ['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--model', 'sonnet'], {
      input: prompt,
      cwd: bareDir,
      env: bareEnv,
    });
    if (!result.stdout.includes('"subtype":"success"')) throw new Error('bare claude -p did not succeed');
    return performance.now() - started;
  };
  const gatewayTurn = async (prompt: string, n: number) => {
    const started = performance.now();
    const res = await postJson(`${gateway.url}/hooks/agent`, { message: prompt, sessionKey: `agent:main:bench-${Date.now()}-${n}`, mode: 'sync', timeoutMs: 120_000 });
    if (res.status !== 200 || res.body.status !== 'completed') throw new Error(`gateway turn failed: ${res.status} ${JSON.stringify(res.body)}`);
    return performance.now() - started;
  };

  try {
    for (let i = 0; i < 2; i++) {
      await bareTurn(`warm-up ${i}`);
      await gatewayTurn(`warm-up ${i}`, -i - 1);
    }
    const bare: number[] = [];
    const viaGateway: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleaved, alternating who goes first, so drift on the machine hits both alike.
      if (i % 2 === 0) {
        bare.push(await bareTurn(`bench ${i}`));
        viaGateway.push(await gatewayTurn(`bench ${i}`, i));
      } else {
        viaGateway.push(await gatewayTurn(`bench ${i}`, i));
        bare.push(await bareTurn(`bench ${i}`));
      }
    }
    const bareStats = summarize(bare);
    const gatewayStats = summarize(viaGateway);
    return { runs, bare: bareStats, gateway: gatewayStats, ratio: gatewayStats.p50 / bareStats.p50, overheadMs: gatewayStats.p50 - bareStats.p50 };
  } finally {
    await gateway.close();
    await fake.close();
    await temporal.teardown();
  }
}

export function turnOverheadTable(result: TurnOverheadResult): string {
  return [
    '| turn (N = ' + result.runs + ') | p50 | p90 | max |',
    '| --- | ---: | ---: | ---: |',
    `| bare \`claude -p\` (baseline) | ${ms(result.bare.p50)} | ${ms(result.bare.p90)} | ${ms(result.bare.max)} |`,
    `| through the gateway (message in → turn.completed) | ${ms(result.gateway.p50)} | ${ms(result.gateway.p90)} | ${ms(result.gateway.max)} |`,
    `| **ratio of medians** | **${result.ratio.toFixed(3)}** (overhead ${ms(result.overheadMs)}) | | |`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runsFlag = process.argv.indexOf('--runs');
  const result = await benchTurnOverhead(runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 20);
  console.log(turnOverheadTable(result));
}
