// Turns an agent's config and a turn into the exact `claude` command line and environment.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentConfig } from '../config/schema.js';

export interface ClaudeInvocation {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** The prompt goes through stdin, which is then closed: no argv length limit, no flag confusion. */
  input: string;
}

export interface TurnSpec {
  prompt: string;
  claudeSessionId: string;
  /** `--resume` an existing Claude session, else create it with `--session-id`. */
  resume: boolean;
  /** The turn's own settings file (the agent's settingsFile with the gateway's hooks merged in); it replaces agent.settingsFile, as the CLI keeps only the last --settings. */
  settingsFile?: string;
}

/** The gateway's own variables never reach an agent: they hold its tokens. */
export function agentEnvironment(baseEnv: NodeJS.ProcessEnv, agent: AgentConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(baseEnv)) {
    if (value !== undefined && !key.startsWith('SWITCHYARD_')) env[key] = value;
  }
  // Temporal owns retries of a failed turn; the CLI's own would multiply with them.
  env.CLAUDE_CODE_MAX_RETRIES = '0';
  return { ...env, ...agent.env };
}

export function buildClaudeInvocation(agent: AgentConfig, turn: TurnSpec, context: { command: string; baseEnv: NodeJS.ProcessEnv; baseDir: string }): ClaudeInvocation {
  const args = ['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages'];
  args.push('--model', agent.model, '--permission-mode', agent.permissionMode, '--max-turns', String(agent.maxTurns));
  args.push(turn.resume ? '--resume' : '--session-id', turn.claudeSessionId);
  if (agent.allowedTools.length > 0) args.push('--allowedTools', agent.allowedTools.join(','));
  if (agent.disallowedTools.length > 0) args.push('--disallowedTools', agent.disallowedTools.join(','));
  if (agent.appendSystemPrompt !== '') args.push('--append-system-prompt', agent.appendSystemPrompt);
  if (agent.maxBudgetUsd !== undefined) args.push('--max-budget-usd', String(agent.maxBudgetUsd));
  // Resume does not remember these, so every turn passes them again.
  if (turn.settingsFile) args.push('--settings', turn.settingsFile);
  else if (agent.settingsFile) args.push('--settings', path.resolve(context.baseDir, agent.settingsFile));
  for (const file of agent.mcpConfig) args.push('--mcp-config', path.resolve(context.baseDir, file));
  for (const dir of agent.addDirs) args.push('--add-dir', path.resolve(context.baseDir, dir));
  return {
    command: context.command,
    args,
    env: agentEnvironment(context.baseEnv, agent),
    cwd: path.resolve(context.baseDir, agent.cwd),
    input: agent.slashCommands ? turn.prompt : asPlainText(turn.prompt),
  };
}

/**
 * The CLI runs a prompt that starts with "/" as a slash command; a leading space makes it
 * plain text (the model still sees the prompt without it).
 */
export function asPlainText(prompt: string): string {
  return prompt.startsWith('/') ? ` ${prompt}` : prompt;
}

/**
 * Finds the CLI: a path (relative to the gateway's directory), else a name on PATH, else in
 * a node_modules/.bin above this module (the pinned devDependency in a checkout).
 */
export function resolveCommand(command: string, options: { baseDir: string; env: NodeJS.ProcessEnv }): string | undefined {
  if (command.includes('/') || command.includes(path.sep)) {
    const full = path.resolve(options.baseDir, command);
    return isExecutable(full) ? full : undefined;
  }
  for (const dir of (options.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'node_modules', '.bin', command);
    if (isExecutable(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
