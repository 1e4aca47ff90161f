// The `runAgentTurn` activity (task queue `switchyard-agents`): one `claude -p` process per
// turn, its stream-json parsed line by line into live events, its outcome classified.
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { execa } from 'execa';
import type { SessionEvent } from '../contracts/events.js';
import { TURN_FAILURE, type TurnRequest, type TurnResult } from '../contracts/session.js';
import { resolveAgent, type AgentConfig, type Config } from '../config/schema.js';
import { gatewayToolsTarget, withGatewayTools } from '../mcp/agent-gateway-tools.js';
import { buildClaudeInvocation, resolveCommand } from './claude-invocation.js';
import type { EventPublisher } from './event-publisher.js';
import { stopProcessGroup } from './process-group.js';
import { StallWatch } from './stall-watch.js';
import { parseDuration } from '../config/duration.js';
import { parseStreamJsonLine, type ResultLine } from './stream-json.js';
import { classifyOutcome } from './turn-outcome.js';
import { openTurnHooks, type HookEndpoint } from '../claude-hooks/turn-hooks.js';
import { withToolAudit, type ToolAudit } from '../claude-hooks/tool-audit.js';

/** Kept small: a result travels through Temporal payloads (2 MB limit) and the event log. */
export const RESULT_TEXT_LIMIT = 256 * 1024;
const TOOL_OUTPUT_LIMIT = 4000;
const STDERR_TAIL = 4000;
const HEARTBEAT_EVERY_MS = 1000;

export interface AgentActivityDeps {
  config: () => Config;
  publisher: EventPublisher;
  /** Where relative agent paths (cwd, command, settings) are resolved from. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  /** Where the turn's hooks post (POST /internal/hooks); without it turns run without gateway hooks. */
  hooks?: HookEndpoint;
  /** The gateway's /rpc URL for agents with `gatewayTools`; default from the config's gateway.bind and port. */
  gatewayRpcUrl?: string;
}

/** Heartbeat details: what a retried attempt needs to know about the one before it. */
interface Checkpoint {
  claudeSessionId: string;
  /** The CLI reported this session as started, so a retry must resume it. */
  sessionEstablished: boolean;
}

export function createAgentActivities(deps: AgentActivityDeps) {
  async function runAgentTurn(request: TurnRequest): Promise<TurnResult> {
    const ctx = Context.current();
    const agent = resolveAgent(deps.config(), request.agentId);
    if (!agent) {
      throw ApplicationFailure.create({
        type: TURN_FAILURE.config,
        nonRetryable: true,
        message: `Agent "${request.agentId}" is not configured. Add agents.${request.agentId} to the config, or send to an existing agent.`,
      });
    }
    const command = resolveCommand(agent.command, { baseDir: deps.baseDir, env: deps.env });
    if (!command) {
      throw ApplicationFailure.create({
        type: TURN_FAILURE.binary,
        nonRetryable: true,
        message: `The Claude CLI "${agent.command}" was not found (agents.${request.agentId}.command): not a path, not on PATH, not in node_modules/.bin. Install @anthropic-ai/claude-code or set the command.`,
      });
    }

    const previous = ctx.info.heartbeatDetails as Checkpoint | undefined;
    const checkpoint: Checkpoint = previous?.claudeSessionId
      ? previous
      : { claudeSessionId: request.claudeSessionId, sessionEstablished: !request.freshSession };
    let sessionRestarted = false;

    // At most one restart of the session: an unknown `--resume` id, or a `--session-id`
    // that an earlier attempt already created.
    for (let round = 0; round < 2; round++) {
      const started = Date.now();
      const outcome = await withGatewayTools(
        agent,
        () => gatewayToolsTarget(deps.config(), deps.gatewayRpcUrl),
        (turnAgent) => runCli(turnAgent, request, checkpoint, command, ctx),
      );
      if (outcome.stalled) throw stallFailure(agent, request.agentId, ctx.info.attempt);
      const verdict = classifyOutcome({ ...outcome, agentId: request.agentId });
      if (verdict.kind === 'success') {
        return { ...toTurnResult(verdict.result, checkpoint.claudeSessionId, sessionRestarted, started), ...outcome.audit };
      }
      if (verdict.kind === 'unknown-session' && round === 0) {
        ctx.log.warn('Claude session not found; starting a fresh one', { claudeSessionId: checkpoint.claudeSessionId });
        checkpoint.claudeSessionId = randomUUID();
        checkpoint.sessionEstablished = false;
        sessionRestarted = true;
        continue;
      }
      if (verdict.kind === 'session-in-use' && round === 0) {
        checkpoint.sessionEstablished = true;
        continue;
      }
      if (verdict.kind === 'failure') {
        const attempt = ctx.info.attempt;
        if (!verdict.failure.nonRetryable) verdict.failure.message += ` (attempt ${attempt})`;
        throw withToolAudit(verdict.failure, outcome.audit);
      }
      throw ApplicationFailure.create({ type: TURN_FAILURE.crash, message: `The Claude CLI could not resume or create session ${checkpoint.claudeSessionId}.` });
    }
    throw new Error('unreachable');
  }

  async function runCli(agent: AgentConfig, request: TurnRequest, checkpoint: Checkpoint, command: string, ctx: Context) {
    const hooks = await openTurnHooks(deps.hooks, agent, request, deps.baseDir);
    try {
      return { ...(await runCliWith(agent, request, checkpoint, command, ctx, hooks.audit, hooks.settingsFile)), audit: hooks.audit.snapshot() };
    } finally {
      await hooks.close();
    }
  }

  async function runCliWith(agent: AgentConfig, request: TurnRequest, checkpoint: Checkpoint, command: string, ctx: Context, audit: ToolAudit, settingsFile: string | undefined) {
    const invocation = buildClaudeInvocation(
      agent,
      { prompt: request.prompt, claudeSessionId: checkpoint.claudeSessionId, resume: checkpoint.sessionEstablished, ...(settingsFile ? { settingsFile } : {}) },
      { command, baseEnv: deps.env, baseDir: deps.baseDir },
    );
    const child = execa(invocation.command, invocation.args, {
      cwd: invocation.cwd,
      env: invocation.env,
      extendEnv: false,
      input: invocation.input,
      detached: true, // its own process group, so a stop reaches the tools it started
      reject: false,
      buffer: false,
      stripFinalNewline: false,
    });
    const spawnedAt = Date.now();
    // requestId, sessionKey and turnId are added to every line by worker/activity-interceptors.ts.
    ctx.log.info('claude process started', { pid: child.pid, claudeSessionId: checkpoint.claudeSessionId, resume: checkpoint.sessionEstablished });

    const heartbeat = () => ctx.heartbeat(checkpoint);
    heartbeat();
    const timer = setInterval(heartbeat, HEARTBEAT_EVERY_MS);
    const onAbort = () => {
      if (child.pid !== undefined) void stopProcessGroup(child.pid, child);
    };
    ctx.cancellationSignal.addEventListener('abort', onAbort, { once: true });

    // A CLI hung without output is stopped here, long before the turn timeout would.
    const stall = new StallWatch({
      timeoutMs: parseDuration(agent.stallTimeout),
      onStall: () => {
        ctx.log.warn('The Claude CLI went silent; stopping it', { stallTimeout: agent.stallTimeout });
        if (child.pid !== undefined) void stopProcessGroup(child.pid, child);
      },
    });
    stall.start();

    let stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });

    let result: ResultLine | undefined;
    const emit = (type: SessionEvent['type'], data: Record<string, unknown>) =>
      deps.publisher.publish({ sessionKey: request.sessionKey, turnId: request.turnId, type, data, ts: Date.now() });
    try {
      if (child.stdout) {
        for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
          stall.touch();
          for (const item of parseStreamJsonLine(line)) {
            switch (item.kind) {
              case 'init':
                if (item.sessionId === checkpoint.claudeSessionId || !checkpoint.sessionEstablished) {
                  checkpoint.claudeSessionId = item.sessionId;
                }
                checkpoint.sessionEstablished = true;
                heartbeat();
                break;
              case 'text':
                emit('turn.delta', { text: item.text });
                break;
              case 'tool_call':
                stall.toolStarted(item.id);
                emit('turn.tool', { phase: 'call', toolUseId: item.id, name: item.name, input: item.input });
                audit.call(item.id, item.name, item.input);
                break;
              case 'tool_result':
                stall.toolFinished(item.id);
                emit('turn.tool', { phase: 'result', toolUseId: item.id, isError: item.isError, output: truncate(stringify(item.content), TOOL_OUTPUT_LIMIT) });
                audit.result(item.id, item.isError, stringify(item.content));
                break;
              case 'result':
                result = item.result;
                break;
              default:
                break;
            }
          }
        }
      }
      const finished = await child;
      ctx.log.info('claude process exited', { exitCode: finished.exitCode, signal: finished.signal, processMs: Date.now() - spawnedAt });
      if (ctx.cancellationSignal.aborted) throw cancellationOf(ctx);
      return { exitCode: finished.exitCode, signal: finished.signal, result, stderrTail, stalled: stall.stalled };
    } finally {
      clearInterval(timer);
      stall.stop();
      ctx.cancellationSignal.removeEventListener('abort', onAbort);
      if (child.pid !== undefined && child.exitCode === null) await stopProcessGroup(child.pid, child);
    }
  }

  return { runAgentTurn };
}

function stallFailure(agent: AgentConfig, agentId: string, attempt: number): ApplicationFailure {
  return ApplicationFailure.create({
    type: TURN_FAILURE.stalled,
    message: `The Claude CLI wrote nothing for ${agent.stallTimeout} while waiting on the model and was stopped (agents.${agentId}.stallTimeout) (attempt ${attempt})`,
  });
}

function cancellationOf(ctx: Context): Error {
  const reason = ctx.cancellationSignal.reason;
  return reason instanceof Error ? reason : new CancelledFailure(String(reason ?? 'cancelled'));
}

function toTurnResult(result: ResultLine, claudeSessionId: string, sessionRestarted: boolean, startedAt: number): TurnResult {
  return {
    text: truncate(result.result ?? '', RESULT_TEXT_LIMIT),
    claudeSessionId: result.session_id ?? claudeSessionId,
    ...(sessionRestarted ? { sessionRestarted } : {}),
    costUsd: result.total_cost_usd,
    usage: result.usage,
    numTurns: result.num_turns,
    durationMs: result.duration_ms,
    startedAt,
    finishedAt: Date.now(),
  };
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((block) => (typeof block?.text === 'string' ? block.text : JSON.stringify(block))).join('\n');
  return JSON.stringify(value);
}

function truncate(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit)}…[truncated ${text.length - limit} chars]` : text;
}

export type AgentActivities = ReturnType<typeof createAgentActivities>;
