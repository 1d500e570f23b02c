import type { z } from 'zod';
import type { CommonConfig } from '../config/env.ts';
import type { AnyPrompt, AnyResource, AnyTool } from '../define/define.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Upstream } from '../upstream/client.ts';

/** Everything one domain server is: identity, configuration surface, capabilities, and how to build its dependencies. */
export interface ServerDefinition<Deps = unknown, Extra extends z.ZodObject = z.ZodObject> {
  /** Domain name, also the scope prefix: `platform-ops` → `platform-ops:read`. */
  name: string;
  title: string;
  version: string;
  /** Binary name, for --help and messages. */
  bin: string;
  description: string;
  /** Env prefix without the trailing underscore, e.g. `PLATFORM_OPS`. */
  envPrefix: string;
  /** Whether the server can run without its upstream API configured. */
  upstream: 'required' | 'optional';
  /** How messages name the upstream, e.g. "platform-ops API". */
  upstreamName: string;
  /** Server-specific environment (full variable names). */
  env: Extra;
  /** The public scope vocabulary with a line each. */
  scopes: Record<string, string>;
  /**
   * The toolsets (groups of tools a connection can narrow itself to) with a
   * line each. Every tool names exactly one of them in its `toolset` field.
   */
  toolsets: Record<string, string>;
  instructions: string;
  createDeps: (setup: {
    config: ServerConfig<Extra>;
    log: Logger;
    upstream: Upstream | undefined;
    announce: Announcer;
  }) => Deps | Promise<Deps>;
  /** Releases what createDeps opened (watchers, databases). */
  disposeDeps?: (deps: Deps) => Promise<void> | void;
  /**
   * The tools, or a function of the server's own parsed variables (`env`) that
   * returns them, for a surface shaped by configuration (a cap in a schema).
   * Without a configuration (README tables, registry checks) the function gets
   * the variables' defaults.
   */
  tools: ReadonlyArray<AnyTool<Deps>> | ((env: z.infer<Extra>) => ReadonlyArray<AnyTool<Deps>>);
  resources?: ReadonlyArray<AnyResource<Deps>>;
  prompts?: ReadonlyArray<AnyPrompt<Deps>>;
}

export type ServerConfig<Extra extends z.ZodObject = z.ZodObject> = Readonly<
  CommonConfig & { env: z.infer<Extra> }
>;

// biome-ignore lint/suspicious/noExplicitAny: definitions are stored type-erased once built.
export type AnyServerDefinition = ServerDefinition<any, any>;

export function defineServer<Deps, Extra extends z.ZodObject>(
  definition: ServerDefinition<Deps, Extra>,
): ServerDefinition<Deps, Extra> {
  return definition;
}

/** A definition's tools for one configuration (its own variables' defaults when none is given). */
export function toolsOf(definition: AnyServerDefinition, env?: Record<string, unknown>): readonly AnyTool[] {
  const { tools } = definition;
  return typeof tools === 'function' ? tools(env ?? definition.env.parse({})) : tools;
}

/** Toolset names: what `<P>_TOOLSETS` and the `X-Gatehouse-Toolsets` header may name. */
const TOOLSET_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Problems with a definition's toolsets: every tool belongs to exactly one
 * declared toolset, and every declared toolset has a valid name. Empty when
 * all is well.
 */
export function toolsetProblems(definition: AnyServerDefinition, tools: readonly AnyTool[]): string[] {
  const declared = definition.toolsets ?? {};
  const names = Object.keys(declared);
  const problems: string[] = [];
  if (names.length === 0) problems.push(`server ${definition.name} declares no toolsets`);
  for (const name of names)
    if (!TOOLSET_NAME.test(name)) problems.push(`toolset ${JSON.stringify(name)} must match ${TOOLSET_NAME}`);
  for (const tool of tools) {
    const toolset: unknown = tool.toolset;
    if (typeof toolset !== 'string' || toolset === '')
      problems.push(`tool ${tool.name} belongs to no toolset (set its \`toolset\` field)`);
    else if (!Object.hasOwn(declared, toolset))
      problems.push(
        `tool ${tool.name} names the toolset ${JSON.stringify(toolset)}, which ${definition.name} does not declare (declared: ${names.join(', ')})`,
      );
  }
  return problems;
}

export const needsApproval = (tool: Pick<AnyTool, 'effect' | 'approval'>): boolean =>
  tool.effect === 'destructive' || (tool.effect === 'write' && tool.approval === 'human');

/**
 * Lets a server's own code tell connected clients that something changed
 * (a docs index picked up a file). Each live server instance forwards it to
 * its client as the protocol revision allows.
 */
export interface Announcer {
  resourceListChanged(): void;
  resourceUpdated(uri: string): void;
}
