// One MCP tool = one JSON-RPC method of the gateway, with a name and a description written
// for an agent. The input schema is the method's own params schema from the method table
// (api/rpc/methods/index.ts), so the tool, the dispatcher and docs/rpc.md never disagree.
import type { z } from 'zod';
import { coreMethods, type CoreMethodName } from '../api/rpc/methods/index.js';

export interface GatewayTool {
  /** The MCP tool name; Claude Code shows it as `mcp__switchyard__<name>`. */
  name: string;
  /** The JSON-RPC method it calls. */
  method: string;
  title: string;
  /** For the model: what it does, what it returns, when to use it. */
  description: string;
  /** Validates the arguments (the SDK answers a mismatch with a tool error) and becomes the tool's JSON Schema. */
  input: z.ZodType;
  /** Only reads: no session, message or schedule changes. */
  readOnly: boolean;
}

type ToolText = Pick<GatewayTool, 'name' | 'title' | 'description' | 'readOnly'>;

/** A tool for a method of the method table, taking its params schema from there. */
export function methodTool(method: CoreMethodName, text: ToolText): GatewayTool {
  const entry = coreMethods.find((candidate) => candidate.name === method);
  // Unreachable while `method` is a CoreMethodName; guards a table edited without the types.
  if (!entry) throw new Error(`no RPC method ${method} in the method table`);
  return { ...text, method, input: entry.params };
}
