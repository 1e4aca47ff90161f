#!/usr/bin/env node
// `switchyard`: the command line. Each subcommand lives in cli/commands/.
import { Command } from 'commander';

// Loaded on demand: `switchyard call` need not load the supervisor, the Temporal client or the
// MCP SDK, which together take most of a second to import. `--help`, no command, or an
// unknown one (for commander's "did you mean") loads them all, in this order.
const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./commands/start.js')).startCommand(),
  config: async () => (await import('./commands/config.js')).configCommand(),
  call: async () => (await import('./commands/call.js')).callCommand(),
  cron: async () => (await import('./commands/cron.js')).cronCommand(),
  mcp: async () => (await import('./commands/mcp.js')).mcpCommand(),
  service: async () => (await import('./commands/service.js')).serviceCommand(),
  status: async () => (await import('./commands/status.js')).statusCommand(),
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand(),
  channels: async () => (await import('./commands/channels.js')).channelsCommand(),
  chat: async () => (await import('./commands/chat.js')).chatCommand(),
};

const program = new Command('switchyard')
  .description('A durable gateway for Claude Code agents, on Temporal')
  .version('0.1.0')
  .showHelpAfterError();
const requested = process.argv[2];
const names = requested !== undefined && Object.hasOwn(COMMANDS, requested) ? [requested] : Object.keys(COMMANDS);
for (const name of names) program.addCommand(await COMMANDS[name]!());

await program.parseAsync(process.argv);
