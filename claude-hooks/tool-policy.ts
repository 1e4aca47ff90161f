// An agent's `toolPolicy`: deny rules written like Claude Code's own permission rules
// (`Bash`, `Bash(rm:*)`, `Bash(git push --force*)`, `Write(/etc/**)`, `WebFetch(domain:example.com)`,
// `mcp__github`, `mcp__github__delete_*`), matched against a tool call. Pure logic: the API
// route answers PreToolUse with it, the turn activity uses it to label denials in the audit.

export interface ToolRule {
  /** The rule as written in the config. */
  source: string;
  /** Tool name pattern: exact, `*` wildcards, or an MCP server prefix (`mcp__server`). */
  tool: RegExp;
  /** What the rule's parenthesised part says about the call; absent: every call of the tool. */
  specifier?: Specifier;
}

type Specifier =
  | { kind: 'prefix'; prefix: string }
  | { kind: 'glob'; pattern: RegExp }
  | { kind: 'domain'; domain: string };

export interface ToolCall {
  name: string;
  input: unknown;
}

const RULE = /^([A-Za-z0-9_*.-]+)(?:\(([\s\S]*)\))?$/;

/** Parses one rule; throws an Error that says what is wrong (the config schema shows it). */
export function parseToolRule(source: string): ToolRule {
  const match = RULE.exec(source.trim());
  if (!match) throw new Error(`"${source}" is not a tool rule: expected ToolName or ToolName(specifier), e.g. Bash(rm:*)`);
  const [, name, inner] = match as unknown as [string, string, string | undefined];
  const tool = toolPattern(name);
  if (inner === undefined) return { source, tool };
  const text = inner.trim();
  if (text === '' || text === '*' || text === '**') return { source, tool };
  return { source, tool, specifier: parseSpecifier(text) };
}

function parseSpecifier(text: string): Specifier {
  if (text.startsWith('domain:')) {
    const domain = text.slice('domain:'.length).trim().toLowerCase();
    if (!domain) throw new Error('domain: needs a host name, e.g. WebFetch(domain:example.com)');
    return { kind: 'domain', domain };
  }
  // `npm run test:*`: the legacy prefix form of Claude Code's Bash rules.
  if (text.endsWith(':*')) return { kind: 'prefix', prefix: text.slice(0, -2).trim() };
  return { kind: 'glob', pattern: globToRegExp(text) };
}

function toolPattern(name: string): RegExp {
  // `mcp__server` names every tool of that server, as in Claude Code.
  if (/^mcp__[^_*]+(?:_[^_*]+)*$/.test(name) && name.split('__').length === 2) return new RegExp(`^${escape(name)}(?:__.*)?$`);
  return new RegExp(`^${name.split('*').map(escape).join('.*')}$`);
}

/** `*` matches anything (the path separator included), as a deny rule should over-match. */
function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split(/\*+/).map(escape).join('[\\s\\S]*')}$`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The first rule that denies the call, if any. */
export function deniedBy(rules: readonly ToolRule[], call: ToolCall): ToolRule | undefined {
  return rules.find((rule) => ruleMatches(rule, call));
}

export function ruleMatches(rule: ToolRule, call: ToolCall): boolean {
  if (!rule.tool.test(call.name)) return false;
  const specifier = rule.specifier;
  if (!specifier) return true;
  return subjectsOf(call).some((subject) => specifierMatches(specifier, subject, call.name));
}

function specifierMatches(specifier: Specifier, subject: string, tool: string): boolean {
  switch (specifier.kind) {
    case 'domain': {
      const host = hostOf(subject);
      return host !== undefined && (host === specifier.domain || host.endsWith(`.${specifier.domain}`));
    }
    case 'prefix':
      // Word boundary for commands: `rm:*` denies `rm -rf x`, not `rmdir x`.
      return tool === 'Bash' ? subject === specifier.prefix || subject.startsWith(`${specifier.prefix} `) : subject.startsWith(specifier.prefix);
    case 'glob':
      return specifier.pattern.test(subject);
  }
}

/** What a rule's specifier is matched against: per tool, as Claude Code reads its rules. */
function subjectsOf(call: ToolCall): string[] {
  const input = isRecord(call.input) ? call.input : {};
  const field = (key: string) => (typeof input[key] === 'string' ? [input[key] as string] : []);
  switch (call.name) {
    case 'Bash':
      return typeof input.command === 'string' ? bashSubjects(input.command) : [];
    case 'Read':
    case 'Write':
    case 'Edit':
    case 'MultiEdit':
      return field('file_path');
    case 'NotebookEdit':
      return field('notebook_path');
    case 'Glob':
    case 'Grep':
      return [...field('path'), ...field('pattern')];
    case 'WebFetch':
      return field('url');
    case 'WebSearch':
      return field('query');
    default:
      // Any other tool (MCP tools included): every string in its input.
      return stringsIn(input);
  }
}

/**
 * The whole command and each simple command in it, without leading `VAR=value`
 * assignments: `cd x && rm -rf y` is denied by `Bash(rm:*)`. A deny list is a guard rail,
 * not a sandbox: it errs towards matching.
 */
export function bashSubjects(command: string): string[] {
  const parts = command
    .split(/&&|\|\||[;|&\n]|\$\(|`|\(|\)/)
    .map((part) => part.trim().replace(/^(?:[A-Za-z_][A-Za-z0-9_]*=(?:'[^']*'|"[^"]*"|\S*)\s+)+/, '').trim())
    .filter(Boolean);
  return [...new Set([command.trim(), ...parts])];
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function stringsIn(value: unknown, out: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') out.push(value);
  else if (depth < 5 && Array.isArray(value)) for (const item of value) stringsIn(item, out, depth + 1);
  else if (depth < 5 && isRecord(value)) for (const item of Object.values(value)) stringsIn(item, out, depth + 1);
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The reason the CLI shows the model (and the audit records) for a denied call. */
export function denialReason(agentId: string, rule: ToolRule): string {
  return `Blocked by the gateway's tool policy: agents.${agentId}.toolPolicy.deny rule "${rule.source}".`;
}
