import { type McpServer, UriTemplate } from '@modelcontextprotocol/server';
import { missingScopes, type Principal, toolVisibility } from './policy.ts';
import type { Runtime } from './runtime.ts';

/** Longest resource URI the seam reads; longer ones are refused, typed and audited. */
export const MAX_URI_LENGTH = 2048;

/**
 * The SDK matches a URI against each template's regular expression before any
 * callback runs, and some template shapes backtrack on long input. Past the cap,
 * a URI under this template's literal prefix matches without the expression, so
 * the read callback refuses it as too long.
 */
export class CappedUriTemplate extends UriTemplate {
  private readonly literal: string;
  constructor(template: string) {
    super(template);
    const open = template.indexOf('{');
    this.literal = open === -1 ? template : template.slice(0, open);
  }
  override match(uri: string) {
    if (uri.length <= MAX_URI_LENGTH) return super.match(uri);
    return uri.startsWith(this.literal) ? {} : null;
  }
}

/** Step-up over HTTP: required-but-missing scopes become a 403 insufficient_scope before any handler runs. */
export function installScopeChallenges(
  runtime: Runtime,
  principal: Principal,
  mcp: McpServer,
  observe: ((tool: string, scopes: string[], args: unknown) => void) | undefined,
): void {
  const fallback = mcp.resolveScopeChallenge;
  mcp.resolveScopeChallenge = (context) => {
    const { request } = context;
    const params = request.params as { name?: unknown; arguments?: unknown } | undefined;
    if (request.method !== 'tools/call' || typeof params?.name !== 'string') return fallback(context);
    const prepared = runtime.tools.get(params.name);
    if (!prepared) return fallback(context);
    const visibility = toolVisibility(prepared.tool, principal, runtime.policy);
    if (!visibility.visible && visibility.reason !== 'scope') return fallback(context);
    let extra: string[] = [];
    // Arguments matter only to a tool that asks for more scopes by argument.
    const parsed = prepared.tool.extraScopes
      ? prepared.input.safeParse(params.arguments ?? {})
      : { success: false as const };
    if (parsed.success) {
      try {
        extra = prepared.tool.extraScopes?.(parsed.data as never) ?? [];
      } catch {
        extra = [];
      }
    }
    const missing = missingScopes(principal, [prepared.tool.scope, ...extra]);
    if (missing.length === 0) return fallback(context);
    observe?.(prepared.tool.name, missing, params.arguments);
    return {
      // The complete set to ask for: what the caller holds plus what is missing (scope-token grammar only).
      scopes: [
        ...[...principal.scopes].filter((scope) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope)),
        ...missing,
      ] as [string, ...string[]],
      errorDescription: `${prepared.tool.name} requires the scope ${missing.join(' ')}`,
    };
  };
}

/** Tools hidden from the principal only for want of a scope (not by policy). */
export function scopeHiddenTools(runtime: Runtime, principal: Principal): Set<string> {
  const names = new Set<string>();
  for (const [name, { tool }] of runtime.tools) {
    const visibility = toolVisibility(tool, principal, runtime.policy);
    if (!visibility.visible && visibility.reason === 'scope') names.add(name);
  }
  return names;
}
