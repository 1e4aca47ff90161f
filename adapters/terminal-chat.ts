// The terminal chat adapter: each line read from stdin is a message from `peer` on this
// channel; each reply of the agent is printed on stdout. A person runs it in a terminal
// (`switchyard chat`, or `node --import tsx adapters/terminal-chat.ts`); under the gateway's
// supervisor (`channels.<name>.adapter: terminal-chat`) it reads whatever the supervisor
// gives it as stdin (`channels.<name>.stdin`: a FIFO or a file) and its replies go to the
// channel's log (`switchyard channels logs <name>`).
//
// Piped input (`echo hi | switchyard chat`) ends when every line has been answered.
import { createInterface } from 'node:readline';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { exitWhenOrphaned } from '../supervisor/orphan-guard.js';
import { adapterEnvironment, GatewayLink, type Reply } from './gateway-link.js';

export interface TerminalChatOptions {
  url: string;
  token?: string;
  channel: string;
  peer: string;
  agent: string;
  stateFile?: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  errors?: NodeJS.WritableStream;
  /** Show a prompt (default: when stdin is a terminal). */
  interactive?: boolean;
}

/** Runs until stdin ends and every message has its reply; resolves with the exit code. */
export async function runTerminalChat(options: TerminalChatOptions): Promise<number> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const errors = options.errors ?? process.stderr;
  const interactive = options.interactive ?? Boolean((input as { isTTY?: boolean }).isTTY);
  const waiting = new Set<string>();
  /** Replies that came before their send call returned. */
  const answered = new Set<string>();
  let ended = false;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));
  const prompt = () => {
    if (interactive) output.write(`${options.peer}> `);
  };

  const print = async (reply: Reply) => {
    const text =
      reply.type === 'turn.completed' ? (reply.text ?? '') : reply.type === 'turn.failed' ? `[the turn failed: ${reply.reason ?? 'unknown'}]` : `[cancelled: ${reply.reason ?? ''}]`;
    output.write(`${interactive ? '\r' : ''}${options.agent}: ${text}\n`);
    for (const id of reply.messageIds) if (!waiting.delete(id)) answered.add(id);
    if (ended && waiting.size === 0) finish(0);
    else prompt();
  };

  const link = new GatewayLink({
    url: options.url,
    ...(options.token ? { token: options.token } : {}),
    channel: options.channel,
    agent: options.agent,
    ...(options.stateFile ? { stateFile: options.stateFile } : {}),
    onReply: print,
    log: (line) => errors.write(`terminal-chat: ${line}\n`),
  });
  void link.failed.then((error) => {
    errors.write(`terminal-chat: ${error.message}\n`);
    finish(1);
  });

  try {
    await link.start();
  } catch (error) {
    errors.write(`terminal-chat: ${(error as Error).message}\n`);
    return 1;
  }
  if (interactive) output.write(`chatting with agent ${options.agent} as ${options.peer} on ${options.channel} (session ${link.sessionKeyOf(options.peer)}); Ctrl-D to leave\n`);
  prompt();

  const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
  // One line after the other, so that messages reach the session in the order they were typed.
  let sending = Promise.resolve();
  lines.on('line', (line) => {
    const text = line.trim();
    if (text === '') return prompt();
    sending = sending.then(async () => {
      try {
        const { messageId } = await link.send(options.peer, text);
        if (!answered.delete(messageId)) waiting.add(messageId);
      } catch (error) {
        errors.write(`terminal-chat: not sent: ${(error as Error).message}\n`);
        prompt();
      }
    });
  });
  lines.on('close', () => {
    void sending.then(() => {
      ended = true;
      if (waiting.size === 0) finish(0);
    });
  });

  const stop = () => finish(0);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  exitWhenOrphaned(stop);
  const code = await done;
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  lines.close();
  await link.close();
  if (interactive && code === 0) output.write('\n');
  return code;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      channel: { type: 'string' },
      peer: { type: 'string' },
      agent: { type: 'string' },
      state: { type: 'string' },
    },
  });
  const env = adapterEnvironment();
  const channel = values.channel ?? env.channel ?? 'terminal';
  const stateFile = values.state ?? (env.stateDir ? path.join(env.stateDir, 'terminal-chat.json') : undefined);
  const token = values.token ?? env.token;
  const code = await runTerminalChat({
    url: values.url ?? env.url,
    ...(token ? { token } : {}),
    channel,
    peer: values.peer ?? process.env.USER ?? 'local',
    agent: values.agent ?? env.agent,
    ...(stateFile ? { stateFile } : {}),
  });
  process.exit(code);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
