// Parses the Claude CLI's `--output-format stream-json` lines. The format grows with each
// CLI release, so anything unknown or malformed is reported as such and never throws.
import { z } from 'zod';

const Init = z.object({ type: z.literal('system'), subtype: z.literal('init'), session_id: z.string() });
const ApiRetry = z.object({ type: z.literal('system'), subtype: z.literal('api_retry') }).loose();
const TextDelta = z.object({
  type: z.literal('stream_event'),
  parent_tool_use_id: z.string().nullish(),
  event: z.object({
    type: z.literal('content_block_delta'),
    delta: z.object({ type: z.literal('text_delta'), text: z.string() }),
  }),
});
const ContentBlock = z.object({ type: z.string() }).loose();
const Assistant = z.object({
  type: z.literal('assistant'),
  parent_tool_use_id: z.string().nullish(),
  message: z.object({ content: z.array(ContentBlock) }),
});
const User = z.object({
  type: z.literal('user'),
  parent_tool_use_id: z.string().nullish(),
  message: z.object({ content: z.union([z.string(), z.array(ContentBlock)]) }),
});
const Result = z
  .object({
    type: z.literal('result'),
    subtype: z.string(),
    is_error: z.boolean().default(false),
    result: z.string().optional(),
    session_id: z.string().optional(),
    total_cost_usd: z.number().default(0),
    usage: z.record(z.string(), z.unknown()).default({}),
    num_turns: z.number().default(0),
    duration_ms: z.number().default(0),
    api_error_status: z.number().nullish(),
    permission_denials: z.array(z.unknown()).default([]),
    errors: z.array(z.unknown()).optional(),
  })
  .loose();
export type ResultLine = z.infer<typeof Result>;

export type StreamItem =
  | { kind: 'init'; sessionId: string }
  | { kind: 'text'; text: string }
  | { kind: 'tool_call'; id: string; name: string; input: unknown }
  | { kind: 'tool_result'; id: string; content: unknown; isError: boolean }
  | { kind: 'retry'; detail: Record<string, unknown> }
  | { kind: 'result'; result: ResultLine }
  | { kind: 'other'; type: string }
  | { kind: 'invalid'; line: string };

/** One stdout line may describe several things (an assistant message with two tool calls). */
export function parseStreamJsonLine(line: string): StreamItem[] {
  const trimmed = line.trim();
  if (trimmed === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return [{ kind: 'invalid', line: trimmed.slice(0, 200) }];
  }
  const type = typeof value === 'object' && value !== null && 'type' in value ? String(value.type) : '';

  const init = Init.safeParse(value);
  if (init.success) return [{ kind: 'init', sessionId: init.data.session_id }];
  const retry = ApiRetry.safeParse(value);
  if (retry.success) return [{ kind: 'retry', detail: retry.data }];
  const delta = TextDelta.safeParse(value);
  // Text of sub-agents (a parent tool use) is not the answer being streamed.
  if (delta.success) return delta.data.parent_tool_use_id ? [] : [{ kind: 'text', text: delta.data.event.delta.text }];
  const assistant = Assistant.safeParse(value);
  if (assistant.success) {
    return assistant.data.message.content.flatMap((block): StreamItem[] =>
      block.type === 'tool_use' ? [{ kind: 'tool_call', id: String(block.id ?? ''), name: String(block.name ?? ''), input: block.input }] : [],
    );
  }
  const user = User.safeParse(value);
  if (user.success) {
    const content = user.data.message.content;
    if (typeof content === 'string') return [];
    return content.flatMap((block): StreamItem[] =>
      block.type === 'tool_result'
        ? [{ kind: 'tool_result', id: String(block.tool_use_id ?? ''), content: block.content, isError: block.is_error === true }]
        : [],
    );
  }
  const result = Result.safeParse(value);
  if (result.success) return [{ kind: 'result', result: result.data }];
  return [{ kind: 'other', type }];
}
