import type { SandboxDomain } from './domain.ts';
import type { FaultRule } from './faults.ts';
import type { IdentityOptions } from './identity.ts';

/** A domain's name (a server's folder name by default: `platform-ops`, `docs`, `support`, …). */
export type Domain = string;

/**
 * One bearer token per domain, keyed by domain name: `tokens['platform-ops']`, `tokens.docs`, …
 * Typed with `any` values on purpose: the domains are found at run time, so their names cannot be
 * keys of a static type, and a `string` index would read as `string | undefined` everywhere
 * (noUncheckedIndexedAccess). Every value is a string; unknown names read as undefined.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type SandboxTokens = Readonly<Record<Domain, any>>;

export interface SandboxOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Only loopback is allowed. */
  host?: '127.0.0.1';
  /** Fixed tokens by domain name; the others are generated (`<tokenPrefix>_<random>`). */
  tokens?: Partial<Record<Domain, string>>;
  controlToken?: string;
  /** SQLite location; default ':memory:'. A file is rebuilt from the seed on every start. */
  dbPath?: string;
  /** Fault rules installed at start (same shape as PUT /_sandbox/faults). */
  faults?: FaultRule[];
  /** Receives one line per request (never contains tokens). Quiet when omitted. */
  log?: (line: string) => void;
  /** Extra fragments served beside the workspace's (a test's fixture domain, for example). */
  domains?: readonly SandboxDomain[];
  /** Load every `servers/<name>/sandbox/index.ts` of the workspace (default true). */
  discover?: boolean;
  /** Trust user tokens from this authorization server (verified; the routes apply per-user rules). */
  identity?: IdentityOptions;
}

/** The user a verified token names, as the routes and the request log see it (never the token). */
export interface Caller {
  sub: string;
  /** The acting server's client id (`act.sub`). */
  actor: string;
  groups: string[];
  jti: string;
  aud: string;
}

export interface Sandbox {
  url: string;
  tokens: SandboxTokens;
  controlToken: string;
  /** The domains this sandbox serves, in order: the workspace's (by folder name), then `options.domains`. */
  domains: readonly SandboxDomain[];
  close(): Promise<void>;
}

export interface RequestRecord {
  seq: number;
  at: string;
  method: string;
  path: string;
  query: Record<string, string>;
  requestId: string | null;
  idempotencyKey: string | null;
  authorization: 'present' | 'absent';
  /** A domain name, 'control' or 'unknown'; null without an Authorization header. */
  tokenDomain: Domain | 'control' | 'unknown' | null;
  status: number | null;
  aborted: boolean;
  /** The user a verified user token named (only then: absent for the service token). */
  caller?: Caller;
  /** Which injected fault (if any) shaped this response. */
  fault: string | null;
  durationMs: number | null;
}
