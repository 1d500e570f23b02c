import type { AnyTool } from '../define/define.ts';

type PrincipalKind = 'local' | 'oauth' | 'api-key';

/** Who is calling: the local operator on stdio, a verified token or API key over HTTP. */
export interface Principal {
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly scopes: ReadonlySet<string>;
  readonly clientId?: string;
}

export interface PolicySettings {
  readOnly: boolean;
  /** When non-empty, only these tools exist for this deployment. */
  allowTools: ReadonlySet<string>;
  denyTools: ReadonlySet<string>;
}

export type Visibility =
  | { visible: true }
  | { visible: false; reason: 'read-only' | 'deny-list' | 'not-allowed' | 'scope' };

/**
 * Whether a principal may see (and therefore call) a tool. A tool that is not
 * visible is never registered for that principal, so a call to it gets exactly
 * the unknown-tool answer: its existence is not revealed.
 */
export function toolVisibility(
  tool: Pick<AnyTool, 'name' | 'effect' | 'scope'>,
  principal: Principal,
  policy: PolicySettings,
): Visibility {
  if (policy.readOnly && tool.effect !== 'read') return { visible: false, reason: 'read-only' };
  if (policy.denyTools.has(tool.name)) return { visible: false, reason: 'deny-list' };
  if (policy.allowTools.size > 0 && !policy.allowTools.has(tool.name))
    return { visible: false, reason: 'not-allowed' };
  if (!principal.scopes.has(tool.scope)) return { visible: false, reason: 'scope' };
  return { visible: true };
}

export function missingScopes(principal: Principal, required: readonly string[]): string[] {
  return required.filter((scope) => !principal.scopes.has(scope));
}

export function localOperator(scopes: Iterable<string>): Principal {
  return { id: 'local-operator', kind: 'local', scopes: new Set(scopes) };
}
