// channels_*: the channel adapters (chat bridges, outbound webhooks, ...) the gateway supervises.
import { methodTool } from '../tool.js';

export const channelTools = [
  methodTool('channels.list', {
    name: 'channels_list',
    title: 'List channels',
    description:
      'Lists the channel adapters the gateway supervises, each with its state (running, stopped, backoff, crashed), pid, uptime, restarts, last exit code and signal, and why it stopped if it did.',
    readOnly: true,
  }),
  methodTool('channels.restart', {
    name: 'channels_restart',
    title: 'Restart a channel',
    description: 'Restarts one channel adapter by name (graceful stop, then start), e.g. after channels_list shows it crashed. Clears a crash-loop stop.',
    readOnly: false,
  }),
];
