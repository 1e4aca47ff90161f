/**
 * A fake Anthropic Messages API on 127.0.0.1 that the real `claude -p` CLI runs against.
 *
 * Main conversation calls (POST /v1/messages with a `tools` list; see RecordedRequest.main)
 * are answered from a script: per-prompt queues (`enqueueFor`), then the shared
 * queue (`enqueue`), then the default reply (`echo: <prompt>`). Every other request the
 * CLI makes (HEAD /, title/summary generation, count_tokens, ...) gets a sensible
 * canned answer and never consumes a scripted reply.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** parsed JSON body, or undefined */
  body: any;
  at: number;
  /**
   * Text of the last user message, with <system-reminder> blocks stripped. When the last
   * user message carries only tool results (a tool follow-up), this is the text of the
   * last user message that had text, i.e. the prompt that started the turn.
   */
  prompt?: string;
  /**
   * true for the main conversation call vs side calls: POST /v1/messages carrying a
   * `tools` array (non-empty, or empty with `thinking`/`context_management`, as with
   * `--tools ""`). Normally `stream: true`; after a broken stream the CLI repeats the
   * same call without `stream` (its "non-streaming fallback"), which is main too.
   */
  main: boolean;
  /** body.stream === true */
  stream: boolean;
  /** tool_result blocks of the last user message (tool follow-ups), content flattened to text */
  toolResults?: ToolResult[];
  /** value of the x-claude-code-session-id header, when sent */
  sessionId?: string;
  /** what the fake answered: reply kind, or 'side' for side calls */
  answeredWith?: Reply['kind'] | 'side' | 'tool-followup';
}

export interface ToolResult {
  tool_use_id: string;
  content: string;
  is_error?: boolean;
}

export type Reply =
  | { kind: 'text'; text: string; chunks?: number; delayMs?: number }
  | { kind: 'tool'; name: string; input: Record<string, unknown>; then: string }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'crash'; afterChunks: number }
  | { kind: 'hang' };

export interface FakeAnthropic {
  /** http://127.0.0.1:PORT */
  url: string;
  /** every request, in order */
  requests: RecordedRequest[];
  mainRequests(): RecordedRequest[];
  /** consumed in order by MAIN conversation requests (a 'tool' reply answers its own follow-up) */
  enqueue(...replies: Reply[]): void;
  /** like enqueue, but only for main requests whose prompt contains `promptSubstring`; takes priority */
  enqueueFor(promptSubstring: string, ...replies: Reply[]): void;
  /** used when the queues are empty; default: text `echo: ${prompt}` */
  setDefault(fn: (req: RecordedRequest) => Reply): void;
  /** clears recorded requests, queues, pending tool follow-ups and the default */
  reset(): void;
  /** closes the server; also ends hanging requests */
  close(): Promise<void>;
}

function isMainCall(method: string | undefined, pathname: string | undefined, body: any): boolean {
  if (method !== 'POST' || pathname !== '/v1/messages' || !body || typeof body !== 'object') return false;
  if (!Array.isArray(body.tools)) return false;
  return body.tools.length > 0 || body.thinking !== undefined || body.context_management !== undefined;
}

const SYSTEM_REMINDER = /<system-reminder>[\s\S]*?<\/system-reminder>/g;

function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content.replace(SYSTEM_REMINDER, '').trim();
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const block of content) {
    if (block && typeof block === 'object' && (block as any).type === 'text' && typeof (block as any).text === 'string') {
      const t = ((block as any).text as string).replace(SYSTEM_REMINDER, '').trim();
      if (t) parts.push(t);
    }
  }
  return parts.join('\n');
}

function flattenToolResultContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((b) => (b && typeof b === 'object' && typeof (b as any).text === 'string' ? (b as any).text : ''))
      .join('');
  }
  return '';
}

function analyse(body: any): { prompt?: string; toolResults?: ToolResult[] } {
  const messages: any[] = body && Array.isArray(body.messages) ? body.messages : [];
  const users = messages.filter((m) => m && m.role === 'user');
  const last = users[users.length - 1];
  if (!last) return {};
  let toolResults: ToolResult[] | undefined;
  if (Array.isArray(last.content)) {
    const trs = last.content.filter((b: any) => b && b.type === 'tool_result');
    if (trs.length > 0) {
      toolResults = trs.map((b: any) => {
        const r: ToolResult = { tool_use_id: String(b.tool_use_id), content: flattenToolResultContent(b.content) };
        if (b.is_error) r.is_error = true;
        return r;
      });
    }
  }
  let prompt = textOfContent(last.content);
  if (!prompt && toolResults) {
    for (let i = users.length - 2; i >= 0; i--) {
      const t = textOfContent(users[i].content);
      if (t) {
        prompt = t;
        break;
      }
    }
  }
  const out: { prompt?: string; toolResults?: ToolResult[] } = { prompt };
  if (toolResults) out.toolResults = toolResults;
  return out;
}

function id(prefix: string): string {
  return prefix + randomBytes(12).toString('base64url');
}

function estimateTokens(body: any): number {
  try {
    return Math.max(1, Math.ceil(JSON.stringify(body ?? '').length / 4));
  } catch {
    return 1;
  }
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const ERROR_MESSAGES: Record<string, string> = {
  invalid_request_error: 'Invalid request',
  authentication_error: 'invalid x-api-key',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'The requested resource could not be found.',
  request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit',
  api_error: 'Internal server error',
  overloaded_error: 'Overloaded',
};

/** Realistic Anthropic error JSON for a status. */
export function anthropicErrorBody(status: number, message?: string): unknown {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { type: 'error', error: { type, message: message ?? ERROR_MESSAGES[type] ?? 'Error' }, request_id: id('req_') };
}

function splitText(text: string, chunks: number): string[] {
  const n = Math.max(1, Math.min(chunks, Math.max(1, text.length)));
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  if (out.length === 0) out.push('');
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const requests: RecordedRequest[] = [];
  let queue: Reply[] = [];
  let prefixed: { substring: string; reply: Reply }[] = [];
  /** tool_use id -> text to answer the follow-up with */
  let pendingTools = new Map<string, string>();
  const defaultReply = (req: RecordedRequest): Reply => ({ kind: 'text', text: `echo: ${req.prompt ?? ''}` });
  let fallback: (req: RecordedRequest) => Reply = defaultReply;
  const hanging = new Set<http.ServerResponse>();
  const sockets = new Set<Socket>();

  function pick(req: RecordedRequest): Reply {
    for (const tr of req.toolResults ?? []) {
      const then = pendingTools.get(tr.tool_use_id);
      if (then !== undefined) {
        pendingTools.delete(tr.tool_use_id);
        req.answeredWith = 'tool-followup';
        return { kind: 'text', text: then };
      }
    }
    const prompt = req.prompt ?? '';
    const i = prefixed.findIndex((p) => prompt.includes(p.substring));
    if (i >= 0) return prefixed.splice(i, 1)[0]!.reply;
    const q = queue.shift();
    if (q) return q;
    return fallback(req);
  }

  function writeEvent(res: http.ServerResponse, type: string, data: unknown): void {
    res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  function sseHead(res: http.ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'request-id': id('req_'),
      'anthropic-organization-id': '00000000-0000-4000-8000-000000000000',
    });
  }

  function messageStart(res: http.ServerResponse, body: any): void {
    writeEvent(res, 'message_start', {
      type: 'message_start',
      message: {
        id: id('msg_'),
        type: 'message',
        role: 'assistant',
        model: typeof body?.model === 'string' ? body.model : 'claude-sonnet-4-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: estimateTokens(body?.messages),
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens: 1,
          service_tier: 'standard',
        },
      },
    });
  }

  async function streamText(res: http.ServerResponse, body: any, text: string, chunks: number, delayMs: number): Promise<void> {
    sseHead(res);
    messageStart(res, body);
    writeEvent(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    writeEvent(res, 'ping', { type: 'ping' });
    for (const piece of splitText(text, chunks)) {
      if (delayMs > 0) await sleep(delayMs);
      if (res.destroyed) return;
      writeEvent(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } });
    }
    writeEvent(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
    writeEvent(res, 'message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: Math.max(1, Math.ceil(text.length / 4)) },
    });
    writeEvent(res, 'message_stop', { type: 'message_stop' });
    res.end();
  }

  function streamTool(res: http.ServerResponse, body: any, name: string, input: Record<string, unknown>, toolId: string): void {
    sseHead(res);
    messageStart(res, body);
    writeEvent(res, 'content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'tool_use', id: toolId, name, input: {} },
    });
    const json = JSON.stringify(input);
    writeEvent(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '' } });
    for (const piece of splitText(json, 3)) {
      writeEvent(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: piece } });
    }
    writeEvent(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
    writeEvent(res, 'message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: Math.max(1, Math.ceil(json.length / 4)) },
    });
    writeEvent(res, 'message_stop', { type: 'message_stop' });
    res.end();
  }

  function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const data = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(data),
      'request-id': id('req_'),
      ...headers,
    });
    res.end(data);
  }

  function messageJson(body: any, content: unknown[], stopReason: string, outputTokens: number): unknown {
    return {
      id: id('msg_'),
      type: 'message',
      role: 'assistant',
      model: typeof body?.model === 'string' ? body.model : 'claude-sonnet-4-5',
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: {
        input_tokens: estimateTokens(body?.messages),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: Math.max(1, outputTokens),
        service_tier: 'standard',
      },
    };
  }

  /** Non-scripted answer for any side call. */
  async function answerSide(req: RecordedRequest, res: http.ServerResponse): Promise<void> {
    const path = req.path.split('?')[0] ?? '';
    if (req.method === 'HEAD' || req.method === 'OPTIONS') {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      return;
    }
    if (path.endsWith('/count_tokens')) {
      sendJson(res, 200, { input_tokens: estimateTokens(req.body) });
      return;
    }
    if (req.method === 'POST' && path === '/v1/messages') {
      const text = sideText(req);
      if (req.stream) {
        await streamText(res, req.body, text, 1, 0);
        return;
      }
      sendJson(res, 200, messageJson(req.body, [{ type: 'text', text }], 'end_turn', Math.ceil(text.length / 4)));
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { data: [], has_more: false, first_id: null, last_id: null });
      return;
    }
    if (req.method === 'GET' && path === '/') {
      sendJson(res, 200, {});
      return;
    }
    sendJson(res, 404, anthropicErrorBody(404));
  }

  /** Side calls that want JSON (titles, summaries) get JSON; others get short text. */
  function sideText(req: RecordedRequest): string {
    const sys = JSON.stringify(req.body?.system ?? '') + JSON.stringify(req.body?.output_format ?? req.body?.output_config ?? '');
    if (/json/i.test(sys) && /title/i.test(sys)) return JSON.stringify({ title: 'Fake session title' });
    if (/json/i.test(sys)) return '{}';
    if (/title/i.test(sys)) return 'Fake session title';
    return 'ok';
  }

  async function answerMain(req: RecordedRequest, res: http.ServerResponse): Promise<void> {
    const reply = pick(req);
    if (req.answeredWith === undefined) req.answeredWith = reply.kind;
    switch (reply.kind) {
      case 'text':
        if (req.stream) await streamText(res, req.body, reply.text, reply.chunks ?? 3, reply.delayMs ?? 0);
        else {
          if (reply.delayMs) await sleep(reply.delayMs);
          sendJson(res, 200, messageJson(req.body, [{ type: 'text', text: reply.text }], 'end_turn', Math.ceil(reply.text.length / 4)));
        }
        return;
      case 'tool': {
        const toolId = id('toolu_');
        pendingTools.set(toolId, reply.then);
        if (req.stream) streamTool(res, req.body, reply.name, reply.input, toolId);
        else {
          const content = [{ type: 'tool_use', id: toolId, name: reply.name, input: reply.input }];
          sendJson(res, 200, messageJson(req.body, content, 'tool_use', Math.ceil(JSON.stringify(reply.input).length / 4)));
        }
        return;
      }
      case 'status': {
        const body = reply.body ?? anthropicErrorBody(reply.status);
        sendJson(res, reply.status, body, reply.headers ?? {});
        return;
      }
      case 'crash': {
        if (req.stream) {
          sseHead(res);
          messageStart(res, req.body);
          writeEvent(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
          for (let i = 0; i < reply.afterChunks; i++) {
            writeEvent(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `partial${i} ` } });
          }
        } else {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
          res.write('{"id":"msg_');
        }
        // let the bytes reach the client before the connection dies
        await sleep(20);
        res.socket?.destroy();
        return;
      }
      case 'hang':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch {
          body = undefined;
        }
      }
      const path = req.url ?? '/';
      const pathname = path.split('?')[0];
      const main = isMainCall(req.method, pathname, body);
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path,
        headers: { ...req.headers },
        body,
        at: Date.now(),
        main,
        stream: body?.stream === true,
        ...analyse(body),
      };
      const sid = req.headers['x-claude-code-session-id'];
      if (typeof sid === 'string') rec.sessionId = sid;
      requests.push(rec);
      const run = main ? answerMain(rec, res) : ((rec.answeredWith = 'side'), answerSide(rec, res));
      run.catch((err) => {
        if (!res.headersSent) sendJson(res, 500, anthropicErrorBody(500, String(err)));
        else res.destroy();
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    mainRequests: () => requests.filter((r) => r.main),
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    enqueueFor: (substring, ...replies) => {
      for (const reply of replies) prefixed.push({ substring, reply });
    },
    setDefault: (fn) => {
      fallback = fn;
    },
    reset: () => {
      requests.length = 0;
      queue = [];
      prefixed = [];
      pendingTools = new Map();
      fallback = defaultReply;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      hanging.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/**
 * Environment for a quiet, offline `claude -p` run against the fake. Merge it over
 * process.env (execa does by default). Not included, on purpose: CLAUDE_CODE_MAX_RETRIES
 * (the CLI retries 401/429/5xx/529 ten times over about three minutes unless a test sets
 * it to 0) and CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK (after a broken stream the CLI
 * repeats the call without streaming unless this is 1).
 */
export function claudeEnv(fake: { url: string }, configDir: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'sk-ant-fake-key-for-tests',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    CLAUDE_CONFIG_DIR: configDir,
    DISABLE_ERROR_REPORTING: '1',
    // never send loopback traffic through a proxy someone set in the environment
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
}
