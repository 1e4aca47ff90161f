// `switchyard chat`: talk to an agent from the terminal, through the terminal chat adapter
// (adapters/terminal-chat.ts) connected to a running gateway. Each line is a message; the
// agent's replies are printed as they come. The session is agent:<agent>:<channel>:<peer>.
import os from 'node:os';
import { Command } from 'commander';
import { runTerminalChat } from '../../adapters/terminal-chat.js';
import { rpcTarget } from './call.js';
import { addConfigFlagOptions } from './config.js';

export function chatCommand(): Command {
  const command = new Command('chat')
    .description('chat with an agent from the terminal (each line is a message; Ctrl-D to leave)')
    .option('--agent <id>', 'the agent', 'main')
    .option('--peer <name>', 'who you are on the channel (default: your user name)')
    .option('--channel <name>', 'the channel name in the session key', 'terminal')
    .option('--url <url>', "the gateway's WebSocket URL (default: ws://<gateway.bind>:<gateway.port>/rpc from the config)")
    .option('--token <token>', 'bearer token (default: $SWITCHYARD_TOKEN, else gateway.auth.token from the config)');
  addConfigFlagOptions(command);
  command.action(async (options: { agent: string; peer?: string; channel: string; url?: string; token?: string }, self: Command) => {
    const { url, token } = rpcTarget(self, options);
    process.exitCode = await runTerminalChat({
      url,
      ...(token ? { token } : {}),
      agent: options.agent,
      channel: options.channel,
      peer: options.peer ?? (os.userInfo().username || 'local'),
    });
  });
  return command;
}
