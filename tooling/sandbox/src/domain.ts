/** The fragment a server contributes to the sandbox (`servers/<name>/sandbox/index.ts`), and its checks. */
import type { Store } from './db.ts';
import type { Route } from './http.ts';

/** An OpenAPI fragment given inline instead of as a file: the domain's paths and its own components. */
export interface ContractFragment {
  paths?: Record<string, unknown>;
  components?: Record<string, Record<string, unknown>>;
}

export interface SandboxDomain {
  /**
   * The domain's name, usually its server's folder name (`platform-ops`): the key in `sandbox.tokens`,
   * the request log's `tokenDomain`, and the token variable `SANDBOX_TOKEN_<NAME>` of the binary.
   */
  readonly name: string;
  /** Prefix of every route of this API, e.g. `/platform/v1`; requests under it need the domain's token. */
  readonly prefix: string;
  /** Prefix of the generated bearer token, e.g. `sbx_ops` gives `sbx_ops_<random>`. */
  readonly tokenPrefix: string;
  /** SQL creating the domain's tables (and FTS5 tables) in the sandbox's SQLite database. */
  readonly schema?: string;
  /**
   * Inserts the domain's deterministic seed data (in one transaction with every other domain's seed).
   * `now` is the start time rounded down to the minute; derive timestamps from it.
   */
  readonly seed?: (store: Store, now: number) => void;
  /** The domain's routes over the shared store; every pattern starts with `prefix`. */
  readonly routes: (store: Store) => Route[];
  /**
   * The domain's contract fragment (paths under `prefix` plus the components only it uses): usually
   * `new URL('./openapi.yaml', import.meta.url)`; the sandbox merges it into one OpenAPI document.
   */
  readonly contract?: URL | ContractFragment;
}

/** Names the request log already uses for something else. */
const RESERVED_NAMES = new Set(['control', 'unknown']);
const RESERVED_PREFIXES = ['/_sandbox', '/healthz'];

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const PREFIX = /^(\/[a-z0-9][a-z0-9._-]*)+$/;
const TOKEN_PREFIX = /^[a-z][a-z0-9_]{1,31}$/;

/** True when `path` is `prefix` itself or below it. */
export const within = (path: string, prefix: string): boolean =>
  path === prefix || path.startsWith(`${prefix}/`);

/**
 * Checks one fragment's shape. Duck-typed on purpose: a fragment loaded from the workspace and the
 * sandbox's built binary may hold different copies of this module.
 */
export function checkDomain(value: unknown, source: string): SandboxDomain {
  const fail = (why: string): never => {
    throw new Error(`sandbox domain from ${source}: ${why}`);
  };
  if (value === null || typeof value !== 'object')
    return fail('expected a default export from defineSandboxDomain');
  const d = value as Record<string, unknown>;
  if (typeof d.name !== 'string' || !NAME.test(d.name) || RESERVED_NAMES.has(d.name))
    fail(
      `name must be a lower-case kebab-case word other than control/unknown (got ${JSON.stringify(d.name)})`,
    );
  if (typeof d.prefix !== 'string' || !PREFIX.test(d.prefix))
    fail(`prefix must look like /platform/v1 (got ${JSON.stringify(d.prefix)})`);
  if (RESERVED_PREFIXES.some((r) => within(String(d.prefix), r) || within(r, String(d.prefix))))
    fail(`prefix ${String(d.prefix)} overlaps the sandbox's own routes`);
  if (typeof d.tokenPrefix !== 'string' || !TOKEN_PREFIX.test(d.tokenPrefix))
    fail(`tokenPrefix must look like sbx_ops (got ${JSON.stringify(d.tokenPrefix)})`);
  if (typeof d.routes !== 'function') fail('routes must be a function of the store');
  if (d.seed !== undefined && typeof d.seed !== 'function') fail('seed must be a function');
  if (d.schema !== undefined && typeof d.schema !== 'string') fail('schema must be SQL text');
  if (d.contract !== undefined && (d.contract === null || typeof d.contract !== 'object'))
    fail('contract must be a URL of an OpenAPI fragment or the fragment itself');
  return value as SandboxDomain;
}

/** Checks a set of fragments together: names, prefixes and token prefixes must not collide. */
export function checkDomainSet(domains: readonly SandboxDomain[]): void {
  for (const [i, a] of domains.entries()) {
    for (const b of domains.slice(i + 1)) {
      if (a.name === b.name) throw new Error(`two sandbox domains are named '${a.name}'`);
      if (within(a.prefix, b.prefix) || within(b.prefix, a.prefix))
        throw new Error(`sandbox domains '${a.name}' and '${b.name}' have overlapping prefixes`);
      if (a.tokenPrefix === b.tokenPrefix)
        throw new Error(
          `sandbox domains '${a.name}' and '${b.name}' share the token prefix ${a.tokenPrefix}`,
        );
    }
  }
}

/** The binary's environment variable for a domain's fixed token: `platform-ops` → `SANDBOX_TOKEN_PLATFORM_OPS`. */
export const tokenVariable = (name: string): string =>
  `SANDBOX_TOKEN_${name.toUpperCase().replace(/-/g, '_')}`;

/**
 * Declares a server's sandbox fragment; `export default defineSandboxDomain({...})` from
 * `servers/<name>/sandbox/index.ts`. Checks the fragment's shape when the module loads.
 */
export function defineSandboxDomain<const D extends SandboxDomain>(domain: D): D {
  checkDomain(domain, `defineSandboxDomain(${JSON.stringify(domain?.name)})`);
  return domain;
}
