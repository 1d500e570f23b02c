import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { type ApprovalSettings, approvalEnvShape, approvalSettings } from '../approval/settings.ts';
import {
  ConfigError,
  envBool,
  envList,
  envText,
  envInt as int,
  resolveFileVariables,
} from '../config/env.ts';

export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

/** The HTTP-only environment, under the server's prefix (documented in --help). */
export function httpEnvSchema(prefix: string) {
  return z.object({
    [`${prefix}_HTTP_HOST`]: envText(1).describe(
      'HTTP bind address (default 127.0.0.1; --host wins); beyond loopback authentication is required',
    ),
    [`${prefix}_HTTP_PORT`]: z.coerce
      .number()
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe('HTTP port (default 0: a free one; --port wins)'),
    [`${prefix}_PUBLIC_URL`]: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'Canonical public URL of this server (https://…/mcp): the token audience (RFC 8707) and the base of the RFC 9728 metadata; required with authentication',
      ),
    [`${prefix}_OAUTH_ISSUER`]: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'OAuth 2.1 authorization server (issuer URL) whose JWT access tokens are accepted; keys from its JWKS',
      ),
    [`${prefix}_API_KEYS_FILE`]: envText(1).describe(
      'JSON file of static API keys [{name, sha256, scopes}] (SHA-256 hashes only, never keys)',
    ),
    [`${prefix}_ALLOWED_ORIGINS`]: envList
      .default([])
      .describe(
        'Extra Origin/Host names allowed besides localhost and the public URL host (comma-separated)',
      ),
    [`${prefix}_HTTP_SESSIONS`]: envBool
      .default(false)
      .describe(
        'Serve 2025-era clients with sessions (server-to-client requests) instead of statelessly; pins clients to one replica',
      ),
    [`${prefix}_SESSION_TTL_SECONDS`]: int(1800, 10, 86_400).describe('Idle lifetime of an HTTP session'),
    [`${prefix}_RATE_LIMIT_PER_MINUTE`]: int(600, 1, 1_000_000).describe(
      'Requests per principal per minute (429 with Retry-After beyond)',
    ),
    [`${prefix}_MAX_CONCURRENT`]: int(16, 1, 10_000).describe(
      'Concurrent requests per principal (429 beyond)',
    ),
    [`${prefix}_METRICS_TOKEN`]: envText(16).describe(
      'Bearer token required by /metrics (16+ characters; /metrics is open when unset)',
    ),
    [`${prefix}_TRUSTED_PROXIES`]: envList
      .default([])
      .describe(
        'Reverse proxies whose X-Forwarded-Host/-For headers are believed: addresses or CIDR ranges, IPv4 or IPv6 (comma-separated, e.g. 10.0.0.0/8,fd00::/8)',
      ),
    [`${prefix}_MAX_BODY_BYTES`]: int(1024 * 1024, 1024, 64 * 1024 * 1024).describe(
      'Largest request body accepted',
    ),
    [`${prefix}_SHUTDOWN_TIMEOUT_MS`]: int(10_000, 100, 120_000).describe(
      'How long shutdown waits for in-flight requests',
    ),
    [`${prefix}_HTTP_MAX_PENDING_PER_SOURCE`]: int(32, 1, 100_000).describe(
      'Connections one peer address may hold open before sending a complete request head; more are closed on accept (counted by socket peer, a trusted proxy included)',
    ),
    ...approvalEnvShape(prefix),
  });
}

/** The HTTP rows of --help and the README: name and description (all optional; defaults are safe). */
export function httpEnvTable(prefix: string): { name: string; required: false; description: string }[] {
  return Object.entries(httpEnvSchema(prefix).shape).map(([name, field]) => ({
    name,
    required: false,
    description: (field as z.ZodType).description ?? '',
  }));
}

export interface ApiKeyEntry {
  name: string;
  /** Hex SHA-256 of the key. */
  sha256: Buffer;
  scopes: string[];
}

export interface HttpSettings {
  prefix: string;
  host: string;
  port: number;
  noAuth: boolean;
  publicUrl: URL | undefined;
  issuer: string | undefined;
  apiKeys: ApiKeyEntry[];
  allowedOrigins: string[];
  sessions: boolean;
  sessionTtlMs: number;
  ratePerMinute: number;
  maxConcurrent: number;
  metricsToken: string | undefined;
  trustedProxies: TrustedProxies;
  maxBodyBytes: number;
  shutdownTimeoutMs: number;
  /** Connections per peer address with no request yet (the next is destroyed on accept). */
  maxPendingPerSource: number;
  /** Out-of-band approval: the store, the page's sign-in, the webhook, four-eyes rules. */
  approval: ApprovalSettings;
}

/**
 * The peers whose X-Forwarded-* headers are believed: exact addresses and CIDR ranges, IPv4 and
 * IPv6 (an ingress pod changes address on every restart; its range does not). An entry that is
 * neither refuses start-up with one line naming it.
 */
class TrustedProxies {
  private readonly list = new BlockList();
  readonly entries: readonly string[];

  constructor(entries: readonly string[], name = 'trusted proxies') {
    this.entries = entries;
    for (const entry of entries) {
      const [address = '', prefix, ...rest] = entry.replace(/^\[(.*)\]$/, '$1').split('/');
      const family = isIP(address);
      const bits = family === 4 ? 32 : 128;
      const length = prefix === undefined ? bits : /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
      if (family === 0 || rest.length > 0 || !(length >= 0 && length <= bits))
        throw new ConfigError(
          `${name}: ${JSON.stringify(entry)} is not an IP address or a CIDR range (such as 10.0.0.0/8 or fd00::/8)`,
        );
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, length, type);
    }
  }

  /** Whether a peer address (as the socket reports it, IPv4-mapped or not) is a trusted proxy. */
  has(address: string): boolean {
    const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const family = isIP(plain);
    if (this.entries.length === 0 || family === 0) return false;
    return this.list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** The keys file: `[{name, sha256, scopes}]`, hashes only. */
export const ApiKeysFile = z
  .array(
    z.strictObject({
      name: z
        .string()
        .regex(/^[A-Za-z0-9_.@-]{1,64}$/)
        .describe('principal id in audit'),
      sha256: z.string().regex(/^[0-9a-fA-F]{64}$/),
      scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/)).max(64),
    }),
  )
  .max(1000);

export function loadApiKeys(file: string, name: string): ApiKeyEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      `${name}: cannot read ${file} as JSON (${(error as NodeJS.ErrnoException).code ?? 'parse error'})`,
    );
  }
  const parsed = ApiKeysFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${name}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`.trim());
  }
  return parsed.data.map((k) => ({ name: k.name, sha256: Buffer.from(k.sha256, 'hex'), scopes: k.scopes }));
}

/** Parses HTTP settings from env and CLI flags (flags win); every problem is one ConfigError line. */
export function loadHttpSettings(
  prefix: string,
  env: NodeJS.ProcessEnv,
  flags: { host?: string; port?: string; noAuth: boolean },
): HttpSettings {
  const schema = httpEnvSchema(prefix);
  const values = resolveFileVariables(env, Object.keys(schema.shape));
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'HTTP settings');
    throw new ConfigError(`${name} is invalid: ${issue?.message ?? 'invalid'}`);
  }
  const d = parsed.data as Record<string, unknown>;
  const v = <T>(name: string) => d[`${prefix}_${name}`] as T;
  const port = flags.port === undefined ? (v<number | undefined>('HTTP_PORT') ?? 0) : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`--port must be an integer from 0 to 65535, not ${JSON.stringify(flags.port)}`);
  const keysFile = v<string | undefined>('API_KEYS_FILE');
  const publicUrl = v<string | undefined>('PUBLIC_URL');
  return {
    prefix,
    host: flags.host ?? v<string | undefined>('HTTP_HOST') ?? '127.0.0.1',
    port,
    noAuth: flags.noAuth,
    publicUrl: publicUrl ? new URL(publicUrl) : undefined,
    issuer: v<string | undefined>('OAUTH_ISSUER'),
    apiKeys: keysFile ? loadApiKeys(keysFile, `${prefix}_API_KEYS_FILE`) : [],
    allowedOrigins: v<string[]>('ALLOWED_ORIGINS'),
    sessions: v<boolean>('HTTP_SESSIONS'),
    sessionTtlMs: v<number>('SESSION_TTL_SECONDS') * 1000,
    ratePerMinute: v<number>('RATE_LIMIT_PER_MINUTE'),
    maxConcurrent: v<number>('MAX_CONCURRENT'),
    metricsToken: v<string | undefined>('METRICS_TOKEN'),
    trustedProxies: new TrustedProxies(v<string[]>('TRUSTED_PROXIES'), `${prefix}_TRUSTED_PROXIES`),
    maxBodyBytes: v<number>('MAX_BODY_BYTES'),
    shutdownTimeoutMs: v<number>('SHUTDOWN_TIMEOUT_MS'),
    maxPendingPerSource: v<number>('HTTP_MAX_PENDING_PER_SOURCE'),
    approval: approvalSettings(prefix, d),
  };
}

/**
 * The start-up rules: without auth only on loopback; with auth a public URL
 * (the audience) and at least one credential source. Returns the one line to
 * refuse with, or undefined.
 */
export function startupProblem(s: HttpSettings): string | undefined {
  const p = s.prefix;
  if (s.noAuth) {
    if (!LOOPBACK_HOSTS.has(s.host))
      return `--no-auth needs a loopback bind (127.0.0.1 or ::1), not --host ${s.host}; configure ${p}_OAUTH_ISSUER or ${p}_API_KEYS_FILE to serve beyond loopback`;
    return undefined;
  }
  if (!s.issuer && s.apiKeys.length === 0)
    return `--transport http needs authentication: set ${p}_OAUTH_ISSUER and/or ${p}_API_KEYS_FILE, or pass --no-auth on a loopback bind`;
  if (!s.publicUrl)
    return `${p}_PUBLIC_URL is required with authentication: it is the canonical URL (token audience) of this server`;
  return undefined;
}
