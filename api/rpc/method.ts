// The method table: every JSON-RPC method is one entry, name → params schema → handler →
// result schema → description. The dispatcher validates with it, docs/rpc.md and
// docs/rpc.schema.json are generated from it, and the typed client takes its types from it.
// Other modules (cron, channels, ...) define their entries with `defineMethod` and add them
// to `coreMethods` (api/rpc/methods/index.ts); tests may register extra ones on a server.
import { z } from 'zod';
import type { RpcCallContext } from './context.js';
import type { RpcScope } from './scopes.js';

export interface RpcMethod<Name extends string = string, Params extends z.ZodType = z.ZodType, Result extends z.ZodType = z.ZodType> {
  name: Name;
  /** One or two sentences for docs/rpc.md. */
  description: string;
  /** Validates `params`; an omitted `params` is validated as `{}`. */
  params: Params;
  /** Validates (and strips) what the handler returns before it is sent. */
  result: Result;
  /** Application error codes the method may answer with, for the docs. */
  errors?: readonly number[];
  /** A JSON example of params for the docs (and `switchyard call --help`). */
  example?: unknown;
  /** Who may call it besides the operator (api/rpc/scopes.ts): `['operator', 'adapter']` opens it to channel adapters' tokens. Default operator only. */
  scopes?: readonly RpcScope[];
  handler: (params: z.output<Params>, context: RpcCallContext) => Promise<z.input<Result>> | z.input<Result>;
}

/** An entry of the table with its types kept (so that `name` stays a literal). */
export function defineMethod<const Name extends string, Params extends z.ZodType, Result extends z.ZodType>(
  method: RpcMethod<Name, Params, Result>,
): RpcMethod<Name, Params, Result> {
  return method;
}

/** Method names beginning with "rpc." are reserved by the specification. */
const RESERVED = /^rpc\./;

/** Name → method, for a list of methods: `TableOf<typeof coreMethods>`. */
export type TableOf<Methods extends readonly RpcMethod<string, z.ZodType, z.ZodType>[]> = {
  [M in Methods[number] as M['name']]: M;
};
export type ParamsOf<M> = M extends RpcMethod<string, infer P, z.ZodType> ? z.input<P> : never;
export type ResultOf<M> = M extends RpcMethod<string, z.ZodType, infer R> ? z.output<R> : never;

// Handlers are contravariant in their params; the registry holds methods of any shape.
export type AnyRpcMethod = RpcMethod<string, any, any>;

export class MethodTable {
  private readonly methods = new Map<string, AnyRpcMethod>();

  constructor(methods: readonly AnyRpcMethod[] = []) {
    for (const method of methods) this.add(method);
  }

  add(method: AnyRpcMethod): this {
    if (RESERVED.test(method.name)) throw new Error(`method names starting with "rpc." are reserved: ${method.name}`);
    if (this.methods.has(method.name)) throw new Error(`RPC method ${method.name} is defined twice`);
    this.methods.set(method.name, method);
    return this;
  }

  get(name: string): AnyRpcMethod | undefined {
    return this.methods.get(name);
  }

  list(): AnyRpcMethod[] {
    return [...this.methods.values()];
  }
}
