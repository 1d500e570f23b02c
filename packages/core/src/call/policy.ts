import type { AnyTool } from '../define/define.ts';

type PrincipalKind = 'local' | 'oauth' | 'api-key';

/** Who is calling: the local operator on stdio, a verified token or API key over HTTP. */
export interface Principal {
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly scopes: ReadonlySet<string>;
  readonly clientId?: string;
  /**
   * The toolsets this connection is narrowed to: the operator's `<P>_TOOLSETS`,
   * further narrowed by the client's `X-Gatehouse-Toolsets` header over HTTP
   * (see `narrowToolsets`). Absent: every toolset. Audited with each record.
   */
  readonly toolsets?: ReadonlySet<string>;
  /** Groups the token names (`groups` claim), for rules (Cedar `principal.groups`). */
  readonly groups?: ReadonlySet<string>;
}

export interface PolicySettings {
  readOnly: boolean;
  /** When non-empty, only these tools exist for this deployment. */
  allowTools: ReadonlySet<string>;
  denyTools: ReadonlySet<string>;
  /** The operator's toolsets (`<P>_TOOLSETS`); absent: every toolset. No connection gets past them. */
  toolsets?: ReadonlySet<string>;
}

export type Visibility =
  | { visible: true }
  | { visible: false; reason: 'read-only' | 'deny-list' | 'not-allowed' | 'scope' | 'toolset' };

/**
 * Whether a principal may see (and therefore call) a tool, filter by filter:
 * read-only, the deny and allow lists, scopes, then toolsets. A tool hidden by
 * any but the last is never registered for that principal, so a call to it
 * gets exactly the unknown-tool answer: its existence is not revealed. A tool
 * outside the connection's toolsets is only narrowed away, not secret: it is
 * left out of tools/list and a call to it is refused, typed and audited.
 */
export function toolVisibility(
  tool: Pick<AnyTool, 'name' | 'effect' | 'scope' | 'toolset'>,
  principal: Principal,
  policy: PolicySettings,
): Visibility {
  if (policy.readOnly && tool.effect !== 'read') return { visible: false, reason: 'read-only' };
  if (policy.denyTools.has(tool.name)) return { visible: false, reason: 'deny-list' };
  if (policy.allowTools.size > 0 && !policy.allowTools.has(tool.name))
    return { visible: false, reason: 'not-allowed' };
  if (!principal.scopes.has(tool.scope)) return { visible: false, reason: 'scope' };
  if (!inToolsets(tool, principal, policy)) return { visible: false, reason: 'toolset' };
  return { visible: true };
}

/** Whether the tool's toolset is both the operator's (`<P>_TOOLSETS`) and the connection's. */
export function inToolsets(
  tool: Pick<AnyTool, 'toolset'>,
  principal: Principal,
  policy: Pick<PolicySettings, 'toolsets'>,
): boolean {
  return (
    (policy.toolsets === undefined || policy.toolsets.has(tool.toolset)) &&
    (principal.toolsets === undefined || principal.toolsets.has(tool.toolset))
  );
}

/** Narrowed principals, one per base principal and selection, so kept servers and their keys are reused. */
const narrowedCache = new WeakMap<Principal, Map<string, Principal>>();

/**
 * The principal of one connection, narrowed to its toolsets: the operator's
 * `<P>_TOOLSETS`, intersected with the ones the client asked for (known names,
 * checked by the caller). Narrowing never widens: a toolset the operator left
 * out stays out whatever the client asks.
 */
export function narrowToolsets(
  principal: Principal,
  policy: Pick<PolicySettings, 'toolsets'>,
  requested?: readonly string[],
): Principal {
  let toolsets = policy.toolsets;
  if (requested !== undefined) {
    const asked = new Set(requested);
    toolsets = new Set(toolsets === undefined ? asked : [...toolsets].filter((t) => asked.has(t)));
  }
  if (toolsets === undefined) return principal;
  const key = [...toolsets].sort().join(',');
  let byKey = narrowedCache.get(principal);
  if (!byKey) {
    byKey = new Map();
    narrowedCache.set(principal, byKey);
  }
  let narrowed = byKey.get(key);
  if (!narrowed) {
    // Bounded: the number of distinct selections is at most 2^(toolsets), and in practice a few.
    if (byKey.size >= 64) byKey.clear();
    narrowed = { ...principal, toolsets: new Set(key === '' ? [] : key.split(',')) };
    byKey.set(key, narrowed);
  }
  return narrowed;
}

export function missingScopes(principal: Principal, required: readonly string[]): string[] {
  return required.filter((scope) => !principal.scopes.has(scope));
}

export function localOperator(scopes: Iterable<string>): Principal {
  return { id: 'local-operator', kind: 'local', scopes: new Set(scopes) };
}

/** How the caller reached this server, as rules see it. */
export const transportOf = (principal: Principal): string => (principal.kind === 'local' ? 'stdio' : 'http');
