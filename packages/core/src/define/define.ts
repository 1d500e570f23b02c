import type { z } from 'zod';
import type { Principal } from '../call/policy.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { UpstreamCallOptions } from '../upstream/client.ts';

/** What a tool does to the world; MCP annotations and default scopes follow from it. */
export type Effect = 'read' | 'write' | 'destructive';

/**
 * Safety metadata is required: a side-effecting tool must say whether a human
 * approves it, and a destructive one can only say yes.
 */
type Safety =
  | { effect: 'read'; approval?: 'none' }
  | { effect: 'write'; approval: 'human' | 'none' }
  | { effect: 'destructive'; approval: 'human' };

/** Everything a handler may use. It also carries the upstream call options, so `api.get(..., ctx)` just works. */
export interface ToolContext<Deps> extends UpstreamCallOptions {
  readonly deps: Deps;
  readonly principal: Principal;
  readonly callId: string;
  readonly log: Logger;
  /** Reports progress when the client asked for it; a no-op otherwise. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
}

export type ObjectSchema = z.ZodObject<z.ZodRawShape>;

export type ToolDefinition<
  Deps = unknown,
  I extends ObjectSchema = ObjectSchema,
  O extends ObjectSchema = ObjectSchema,
  Toolset extends string = string,
> = Safety & {
  /** snake_case, `[a-z0-9_]`, unique per server; the file is the kebab-case form. */
  name: string;
  /**
   * The one toolset (a group of related tools, declared in the server's
   * `toolsets`) this tool belongs to. A connection may narrow itself to some
   * toolsets (`<P>_TOOLSETS`, the `X-Gatehouse-Toolsets` header).
   */
  toolset: Toolset;
  title: string;
  /** What it does, when to use it, what it returns. Written for a model. */
  description: string;
  input: I;
  output: O;
  /** The scope a principal needs to see and call the tool. */
  scope: string;
  /** Further scopes needed for particular arguments (e.g. a production environment). */
  extraScopes?: (args: z.infer<I>) => string[];
  /** Calling twice with the same arguments has no further effect. Reads always are. */
  idempotent?: boolean;
  /** Argument names whose values never reach logs or audit records. */
  sensitive?: ReadonlyArray<keyof z.infer<I> & string>;
  /** For the approval prompt: what the action touches, in the operator's words. */
  target?: (args: z.infer<I>) => { target: string; environment?: string };
  handler: (args: z.infer<I>, ctx: ToolContext<Deps>) => Promise<z.infer<O>>;
  /** Text fallback for clients that ignore structured content; JSON by default. */
  text?: (output: z.infer<O>) => string;
};

/** A type-erased tool, as registries hold them. */
// biome-ignore lint/suspicious/noExplicitAny: the registry stores tools of many input/output types.
export type AnyTool<Deps = unknown> = ToolDefinition<Deps, any, any>;

export interface ReadContext<Deps> extends UpstreamCallOptions {
  readonly deps: Deps;
  readonly principal: Principal;
  readonly log: Logger;
}

export interface ResourceContent {
  text: string;
  mimeType?: string;
}

export interface StaticResourceDefinition<Deps = unknown> {
  kind: 'static';
  name: string;
  uri: string;
  title: string;
  description: string;
  mimeType: string;
  scope: string;
  read: (ctx: ReadContext<Deps>) => Promise<ResourceContent>;
}

export interface TemplateResourceDefinition<Deps = unknown, V extends ObjectSchema = ObjectSchema> {
  kind: 'template';
  name: string;
  /** RFC 6570 level-1 template, e.g. `service://catalog/{service}`. */
  uriTemplate: string;
  title: string;
  description: string;
  mimeType: string;
  scope: string;
  /** Validates (and bounds) the variables parsed from a URI. */
  variables: V;
  /** Completion of each variable from a typed prefix. */
  complete?: { [K in keyof z.infer<V>]?: (prefix: string, ctx: ReadContext<Deps>) => Promise<string[]> };
  /** Concrete resources to show in resources/list (optional, bounded). */
  list?: (ctx: ReadContext<Deps>) => Promise<Array<{ uri: string; name: string; title?: string }>>;
  read: (variables: z.infer<V>, ctx: ReadContext<Deps>) => Promise<ResourceContent>;
}

export type AnyResource<Deps = unknown> =
  | StaticResourceDefinition<Deps>
  // biome-ignore lint/suspicious/noExplicitAny: the registry stores templates of many variable types.
  | TemplateResourceDefinition<Deps, any>;

export interface PromptMessage {
  role: 'user' | 'assistant';
  content:
    | { type: 'text'; text: string }
    | { type: 'resource'; resource: { uri: string; mimeType?: string; text: string } };
}

export interface PromptDefinition<Deps = unknown, A extends ObjectSchema = ObjectSchema> {
  name: string;
  title: string;
  description: string;
  /** Prompt arguments are strings on the wire; keep the schema to bounded strings and enums. */
  args: A;
  scope: string;
  complete?: { [K in keyof z.infer<A>]?: (prefix: string, ctx: ReadContext<Deps>) => Promise<string[]> };
  render: (args: z.infer<A>, ctx: ReadContext<Deps>) => Promise<PromptMessage[]>;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry stores prompts of many argument types.
export type AnyPrompt<Deps = unknown> = PromptDefinition<Deps, any>;

/**
 * Binds the definition helpers to one server's dependency type, so each file
 * reads `export default tool({...})` and the handler's `ctx.deps` is typed.
 * `Toolset` is the server's toolset vocabulary (`keyof typeof TOOLSETS`), so a
 * tool naming a toolset the server does not declare is a compile error.
 */
export function definitionsFor<Deps, Toolset extends string = string>() {
  return {
    tool: <I extends ObjectSchema, O extends ObjectSchema>(
      definition: ToolDefinition<Deps, I, O, Toolset>,
    ): AnyTool<Deps> => definition,
    resource: (definition: Omit<StaticResourceDefinition<Deps>, 'kind'>): AnyResource<Deps> => ({
      kind: 'static',
      ...definition,
    }),
    resourceTemplate: <V extends ObjectSchema>(
      definition: Omit<TemplateResourceDefinition<Deps, V>, 'kind'>,
    ): AnyResource<Deps> => ({
      kind: 'template',
      ...definition,
    }),
    prompt: <A extends ObjectSchema>(definition: PromptDefinition<Deps, A>): AnyPrompt<Deps> => definition,
  };
}

/**
 * MCP tool annotations derived from the effect, never written by hand. The
 * title lives on the tool itself; repeating it here would only cost tokens.
 */
export function annotationsFor(tool: Pick<AnyTool, 'effect' | 'idempotent'>) {
  return {
    readOnlyHint: tool.effect === 'read',
    destructiveHint: tool.effect === 'destructive',
    idempotentHint: tool.effect === 'read' || tool.idempotent === true,
    openWorldHint: true,
  };
}
