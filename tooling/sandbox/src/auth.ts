/** Bearer tokens: one per domain plus the control token, compared in constant time. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SandboxDomain } from './domain.ts';
import { errorBody } from './http.ts';
import { jsonOut, type Outgoing } from './respond.ts';
import type { RequestRecord } from './types.ts';

const generate = (prefix: string): string => `${prefix}_${randomBytes(18).toString('base64url')}`;

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class TokenBook {
  /** Domain name → token, in domain order. */
  readonly tokens: Readonly<Record<string, string>>;
  readonly controlToken: string;

  constructor(
    domains: readonly SandboxDomain[],
    given: Partial<Record<string, string>> = {},
    controlToken: string | undefined = undefined,
  ) {
    const names = new Set(domains.map((d) => d.name));
    const unknown = Object.keys(given).filter((name) => !names.has(name));
    if (unknown.length > 0)
      throw new Error(
        `no sandbox domain named ${unknown.map((n) => `'${n}'`).join(', ')} (known: ${[...names].join(', ')})`,
      );
    this.tokens = Object.fromEntries(domains.map((d) => [d.name, given[d.name] ?? generate(d.tokenPrefix)]));
    this.controlToken = controlToken ?? generate('sbx_ctl');
    const all = [...Object.values(this.tokens), this.controlToken];
    if (new Set(all).size !== all.length || all.some((t) => t.length === 0))
      throw new Error('sandbox tokens must be non-empty and distinct');
  }

  /** Which token an Authorization header carries: a domain name, 'control', 'unknown', or null if absent. */
  domainOf(authorization: string | undefined): RequestRecord['tokenDomain'] {
    if (authorization === undefined) return null;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return 'unknown';
    const presented = match[1]!;
    for (const [domain, value] of Object.entries(this.tokens)) if (safeEqual(presented, value)) return domain;
    if (safeEqual(presented, this.controlToken)) return 'control';
    return 'unknown';
  }

  /** undefined when the header carries `wanted`'s token, otherwise the 401/403 answer. */
  authorize(wanted: string, authorization: string | undefined): Outgoing | undefined {
    const presented = this.domainOf(authorization);
    if (presented === wanted) return undefined;
    if (presented === null)
      return jsonOut(401, errorBody('unauthorized', 'missing bearer token'), {
        'www-authenticate': 'Bearer',
      });
    if (presented === 'unknown')
      return jsonOut(401, errorBody('unauthorized', 'invalid bearer token'), {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
    return jsonOut(403, errorBody('forbidden', 'token is not valid for this API'));
  }
}
