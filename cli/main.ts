#!/usr/bin/env node
// `switchyard`: the command line. Each subcommand lives in cli/commands/.
import { Command } from 'commander';
import { configCommand } from './commands/config.js';
import { startCommand } from './commands/start.js';

const program = new Command('switchyard')
  .description('A durable gateway for Claude Code agents, on Temporal')
  .version('0.1.0')
  .showHelpAfterError();
program.addCommand(startCommand());
program.addCommand(configCommand());
program.addCommand((await import('./commands/call.js')).callCommand());
program.addCommand((await import('./commands/cron.js')).cronCommand());
program.addCommand((await import('./commands/mcp.js')).mcpCommand());
program.addCommand((await import('./commands/service.js')).serviceCommand());
program.addCommand((await import('./commands/status.js')).statusCommand());
program.addCommand((await import('./commands/doctor.js')).doctorCommand());
program.addCommand((await import('./commands/channels.js')).channelsCommand());
program.addCommand((await import('./commands/chat.js')).chatCommand());

await program.parseAsync(process.argv);
