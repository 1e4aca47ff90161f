// What the Claude CLI POSTs to an `http` hook (measured with 2.1.197, docs/hooks.md), and
// the `turn.hook` live event the gateway makes of it.
import { z } from 'zod';

/** The fields the gateway reads; the CLI sends more (transcript_path, cwd, prompt_id, ...). */
export const HookInput = z.looseObject({
  hook_event_name: z.string().min(1).max(100),
  session_id: z.string().optional(),
  tool_name: z.string().optional(),
  tool_input: z.unknown().optional(),
  tool_use_id: z.string().optional(),
  tool_response: z.unknown().optional(),
  /** Notification */
  message: z.string().optional(),
  /** UserPromptSubmit */
  prompt: z.string().optional(),
  /** SessionEnd */
  reason: z.string().optional(),
  /** Stop, SubagentStop */
  stop_hook_active: z.boolean().optional(),
  /** PreCompact */
  trigger: z.string().optional(),
});
export type HookInput = z.infer<typeof HookInput>;

/** A live event travels to every subscriber: tool inputs and outputs are cut to this. */
export const HOOK_VALUE_LIMIT = 4000;

/** The `data` of a `turn.hook` live event. */
export function hookEventData(input: HookInput, decision?: { decision: 'deny'; reason: string; rule: string }): Record<string, unknown> {
  const data: Record<string, unknown> = { event: input.hook_event_name };
  if (input.session_id !== undefined) data.claudeSessionId = input.session_id;
  if (input.tool_name !== undefined) data.toolName = input.tool_name;
  if (input.tool_use_id !== undefined) data.toolUseId = input.tool_use_id;
  if (input.tool_input !== undefined) data.input = bounded(input.tool_input);
  if (input.tool_response !== undefined) data.response = bounded(input.tool_response);
  if (input.message !== undefined) data.message = cut(input.message);
  if (input.prompt !== undefined) data.prompt = cut(input.prompt);
  if (input.reason !== undefined) data.reason = input.reason;
  if (input.trigger !== undefined) data.trigger = input.trigger;
  if (decision) Object.assign(data, decision);
  return data;
}

/** Small values pass as they are; larger ones become a cut JSON string. */
export function bounded(value: unknown, limit = HOOK_VALUE_LIMIT): unknown {
  const json = JSON.stringify(value) ?? '';
  return json.length <= limit ? value : cut(json, limit);
}

function cut(text: string, limit = HOOK_VALUE_LIMIT): string {
  return text.length > limit ? `${text.slice(0, limit)}…[truncated ${text.length - limit} chars]` : text;
}

/** The answer that makes the CLI refuse a tool call (PreToolUse `hookSpecificOutput`). */
export function denyAnswer(reason: string) {
  return { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: reason } };
}
