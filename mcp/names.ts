// Names the MCP server is known by outside this process (configs, permission rules): kept
// here, apart from the server, so that the worker can use them without loading the MCP SDK.

/** The server's name in MCP configs: Claude Code names its tools `mcp__switchyard__<tool>`. */
export const MCP_SERVER_NAME = 'switchyard';

/** The permission rule that lets the Claude CLI call every tool of the server without asking. */
export const GATEWAY_TOOLS_ALLOW_RULE = `mcp__${MCP_SERVER_NAME}`;
