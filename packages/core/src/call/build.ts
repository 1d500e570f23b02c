import {
  completable,
  type GetPromptResult,
  McpServer,
  type ReadResourceResult,
  ResourceTemplate,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { AnyPrompt, AnyResource, ReadContext } from '../define/define.ts';
import { GatehouseError } from '../define/errors.ts';
import { describeIssues } from '../define/schema.ts';
import { UNTRUSTED_NOTE } from '../define/untrusted.ts';
import { readContext } from './context.ts';
import { CappedUriTemplate, installScopeChallenges, MAX_URI_LENGTH, scopeHiddenTools } from './guards.ts';
import { type Principal, toolVisibility, transportOf } from './policy.ts';
import { audited, completer } from './read.ts';
import type { Runtime } from './runtime.ts';
import { runTool } from './tool-call.ts';

/**
 * Forwards change events to this instance's client. 2025-era clients get
 * resources/updated only for URIs they subscribed to (resources/subscribe);
 * 2026-07-28 clients choose on their listen stream, which the SDK filters.
 */
function forwardChanges(runtime: Runtime, mcp: McpServer): void {
  const subscribed = new Set<string>();
  if ((runtime.definition.resources ?? []).length > 0) {
    mcp.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
    mcp.server.setRequestHandler('resources/subscribe', async (request) => {
      if (subscribed.size < 1_000) subscribed.add(request.params.uri);
      return {};
    });
    mcp.server.setRequestHandler('resources/unsubscribe', async (request) => {
      subscribed.delete(request.params.uri);
      return {};
    });
  }
  const modern = () => (mcp.server.getNegotiatedProtocolVersion() ?? '') >= '2026-07-28';
  const onList = () => {
    if (mcp.isConnected()) mcp.sendResourceListChanged();
  };
  const onUpdated = (uri: string) => {
    if (mcp.isConnected() && (subscribed.has(uri) || modern()))
      void mcp.server.sendResourceUpdated({ uri }).catch(() => undefined);
  };
  runtime.changes.on('listChanged', onList);
  runtime.changes.on('updated', onUpdated);
  const previous = mcp.server.onclose;
  mcp.server.onclose = () => {
    runtime.changes.off('listChanged', onList);
    runtime.changes.off('updated', onUpdated);
    previous?.();
  };
}

/** The names a principal sees in tools/list: what its scopes, the policy and its toolsets leave. */
export function visibleToolNames(runtime: Runtime, principal: Principal): Set<string> {
  return registeredTools(runtime, principal).listed;
}

/**
 * The tools registered for a principal: the listed ones, and those left out
 * only by the connection's toolsets — registered so that a call to one
 * reaches the seam and is refused typed and audited (OUTSIDE_TOOLSETS),
 * but not listed. Anything else is answered as an unknown tool.
 */
function registeredTools(runtime: Runtime, principal: Principal) {
  const listed = new Set<string>();
  const narrowed = new Set<string>();
  for (const [name, { tool }] of runtime.tools) {
    const visibility = toolVisibility(tool, principal, runtime.policy);
    if (visibility.visible) listed.add(name);
    else if (visibility.reason === 'toolset') narrowed.add(name);
  }
  // The last filter (rules as code): hidden only when the rules deny the tool whatever its arguments.
  if (runtime.rules)
    for (const name of listed)
      if (runtime.rules.hidden(runtime.tools.get(name)!.tool, principal, transportOf(principal)))
        listed.delete(name);
  return { listed, narrowed };
}

/** How long a client may keep a list result (2026-07-28 cache hints): the lists change only with the process. */
const LIST_TTL_MS = 60_000;

const hints = (cacheScope: 'public' | 'private') =>
  Object.freeze({
    'tools/list': { ttlMs: LIST_TTL_MS, cacheScope },
    'prompts/list': { ttlMs: LIST_TTL_MS, cacheScope },
    'resources/templates/list': { ttlMs: LIST_TTL_MS, cacheScope },
    'resources/list': { ttlMs: 0, cacheScope },
  });
const PUBLIC_LISTS = hints('public');
const PRIVATE_LISTS = hints('private');

/**
 * 2026-07-28 cache hints for the list results. `private` wherever the answer
 * depends on who asks: an authenticated principal (scopes narrow it) or a
 * connection that chose its own toolsets. Only the local operator's lists,
 * narrowed by nothing but the operator's configuration, are `public`.
 * resources/list changes with the content (announced by list_changed), so it
 * is not kept at all.
 */
function listCacheHints(runtime: Runtime, principal: Principal) {
  return principal.kind === 'local' && sameToolsets(principal, runtime) ? PUBLIC_LISTS : PRIVATE_LISTS;
}

const sameToolsets = (principal: Principal, runtime: Runtime): boolean => {
  const own = principal.toolsets;
  const operator = runtime.policy.toolsets;
  if (own === undefined || operator === undefined) return own === operator || own === undefined;
  return own.size === operator.size && [...own].every((t) => operator.has(t));
};

/**
 * Builds one McpServer for one principal (one connection, or one HTTP
 * request). Only what the principal may use is registered, so hidden tools
 * are indistinguishable from tools that do not exist; tools outside the
 * connection's toolsets are registered but not listed (see registeredTools).
 */
export interface BuildOptions {
  /**
   * HTTP: what a call to a tool the principal lacks a scope for gets instead of
   * the unknown-tool answer. `challenge` (an authorization server is configured):
   * 403 insufficient_scope naming the scope (OAuth step-up). `deny` (API keys or
   * --no-auth, nothing to step up with): the seam's DENIED tool error naming the
   * scope, which a client can show. The tool stays unlisted either way; tools
   * hidden by policy (read-only, allow/deny lists) still do not exist.
   */
  scopeRefusal?: 'challenge' | 'deny';
  /** Observes each scope challenge (for the audit trail). */
  onScopeChallenge?: (tool: string, scopes: string[], args: unknown) => void;
}

/**
 * Every tool an instance built for `principal` registers (listed, narrowed out by toolsets, or
 * hidden only for want of a scope when there is nothing to step up with): a call to any other
 * name is answered as an unknown tool.
 */
export function servedTools(runtime: Runtime, principal: Principal, options: BuildOptions = {}) {
  const { listed, narrowed } = registeredTools(runtime, principal);
  // With nothing to step up with (scopeRefusal 'deny'), a tool hidden only for want of a scope is
  // registered unlisted too, so a call reaches the seam and is refused DENIED, naming the scope.
  const scoped = options.scopeRefusal === 'deny' ? scopeHiddenTools(runtime, principal) : new Set<string>();
  return { listed, narrowed, scoped, all: new Set([...listed, ...narrowed, ...scoped]) };
}

export function buildMcpServer(
  runtime: Runtime,
  principal: Principal,
  options: BuildOptions = {},
): McpServer {
  const { definition } = runtime;
  const mcp = new McpServer(
    { name: definition.name, title: definition.title, version: definition.version },
    {
      instructions: `${definition.instructions}\n\n${UNTRUSTED_NOTE}`,
      requestState: { verify: (state, ctx) => runtime.codec.verify(state, ctx) },
      // No limit in the SDK: its refusal would be untyped and unaudited. The seam counts the
      // arguments itself (without recursion) and refuses past MAX_ARGUMENT_ELEMENTS, typed and audited.
      maxToolInputElements: Number.POSITIVE_INFINITY,
      cacheHints: listCacheHints(runtime, principal),
    },
  );
  const { listed, narrowed, scoped } = servedTools(runtime, principal, options);
  for (const name of [...listed, ...narrowed, ...scoped]) {
    const prepared = runtime.tools.get(name)!;
    const { tool } = prepared;
    mcp.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: prepared.inputSchema,
        outputSchema: prepared.outputSchema,
        annotations: prepared.listed.annotations,
      },
      // biome-ignore lint/suspicious/noExplicitAny: the advertised schema validates nothing, so args arrive raw.
      ((args: unknown, ctx: ServerContext) => runTool(runtime, prepared, args, ctx, mcp, principal)) as any,
    );
  }
  // The listing, from the entries prepared at start-up (the SDK's own would list the narrowed tools too).
  if (listed.size + narrowed.size + scoped.size > 0) {
    const entries = [...listed].map((name) => runtime.tools.get(name)!.listed);
    mcp.server.setRequestHandler('tools/list', () => ({ tools: [...entries] }));
  }

  for (const resource of (definition.resources ?? []) as AnyResource[]) {
    if (!principal.scopes.has(resource.scope)) continue;
    if (resource.kind === 'static') {
      mcp.registerResource(
        resource.name,
        resource.uri,
        { title: resource.title, description: resource.description, mimeType: resource.mimeType },
        async (uri, ctx): Promise<ReadResourceResult> => {
          const content = await audited(
            runtime,
            principal,
            'resource',
            resource.uri,
            { uri: uri.href },
            ctx.mcpReq,
            (rc) => resource.read(rc),
          );
          return {
            contents: [
              { uri: uri.href, mimeType: content.mimeType ?? resource.mimeType, text: content.text },
            ],
          };
        },
      );
      continue;
    }
    const complete = Object.fromEntries(
      Object.entries(resource.complete ?? {}).map(([variable, fn]) => [
        variable,
        completer(runtime, principal, fn as (p: string, c: ReadContext<unknown>) => Promise<string[]>)!,
      ]),
    );
    const list = resource.list;
    const template = new ResourceTemplate(new CappedUriTemplate(resource.uriTemplate), {
      list: list
        ? async () => ({
            resources: (
              await list(readContext(runtime, principal, AbortSignal.timeout(runtime.config.deadlineMs)))
            ).map((r) => ({
              ...r,
              mimeType: resource.mimeType,
              _meta: { 'dev.gatehouse/template': resource.name },
            })),
          })
        : undefined,
      complete,
    });
    mcp.registerResource(
      resource.name,
      template,
      { title: resource.title, description: resource.description, mimeType: resource.mimeType },
      async (uri, variables, ctx): Promise<ReadResourceResult> => {
        const content = await audited(
          runtime,
          principal,
          'resource',
          resource.uriTemplate,
          { uri: uri.href.slice(0, MAX_URI_LENGTH) },
          ctx.mcpReq,
          async (rc) => {
            if (uri.href.length > MAX_URI_LENGTH)
              throw new GatehouseError('INVALID_ARGUMENT', 'The resource URI is too long.');
            const parsed = resource.variables.safeParse(
              Object.fromEntries(
                Object.entries(variables).map(([k, v]) => [k, Array.isArray(v) ? v.join('/') : v]),
              ),
            );
            if (!parsed.success)
              throw new GatehouseError(
                'INVALID_ARGUMENT',
                `Invalid resource URI: ${describeIssues(parsed.error)}`,
              );
            return resource.read(parsed.data, rc);
          },
        );
        return {
          contents: [{ uri: uri.href, mimeType: content.mimeType ?? resource.mimeType, text: content.text }],
        };
      },
    );
  }

  for (const prompt of (definition.prompts ?? []) as AnyPrompt[]) {
    if (!principal.scopes.has(prompt.scope)) continue;
    // completable() marks the schema object itself, so each registration gets its own copies.
    const shape = Object.fromEntries(
      Object.entries(prompt.args.shape).map(([key, field]) => {
        const fn = (
          prompt.complete as
            | Record<string, ((p: string, c: ReadContext<unknown>) => Promise<string[]>) | undefined>
            | undefined
        )?.[key];
        const copy = (field as z.ZodType).clone();
        return [key, fn ? completable(copy, completer(runtime, principal, fn)!) : copy];
      }),
    );
    mcp.registerPrompt(
      prompt.name,
      { title: prompt.title, description: prompt.description, argsSchema: z.object(shape) },
      async (args, ctx): Promise<GetPromptResult> => {
        const messages = await audited(runtime, principal, 'prompt', prompt.name, args, ctx.mcpReq, (rc) =>
          prompt.render(args, rc),
        );
        return { description: prompt.description, messages };
      },
    );
  }
  if (options.scopeRefusal === 'challenge')
    installScopeChallenges(runtime, principal, mcp, options.onScopeChallenge);
  forwardChanges(runtime, mcp);
  return mcp;
}
