// channels_*: the chat channel adapters (Slack, Telegram, ...) the gateway runs.
//
// The channels.* methods come from the channels module; until it is merged they are not in
// the method table, so their schemas are given here (the table's win once it has them) and
// a gateway without them answers "Method not found", which the tool reports as its error.
import { z } from 'zod';
import { namedMethodTool } from '../tool.js';

export const channelTools = [
  namedMethodTool('channels.list', z.strictObject({}), {
    name: 'channels_list',
    title: 'List channels',
    description: 'Lists the chat channel adapters the gateway runs (Slack, Telegram, ...) with their state: connected, starting, failed, and why.',
    readOnly: true,
  }),
  namedMethodTool('channels.restart', z.strictObject({ name: z.string().min(1).describe('The channel, as named in the config (channels.<name>).') }), {
    name: 'channels_restart',
    title: 'Restart a channel',
    description: 'Restarts one channel adapter by name (it disconnects and connects again), e.g. after channels_list shows it failed.',
    readOnly: false,
  }),
];
