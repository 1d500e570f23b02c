import { readFileSync } from 'node:fs';
import { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Comma-separated values in one variable. */
export const envList = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
/** The spellings of yes and no that operators actually use. */
export const envBool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
/** A whole number from the environment, within bounds, with a default. */
export const envInt = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
const positiveInt = (fallback: number, max: number) => envInt(fallback, 1, max);
/** Optional text of at least `min` characters (a path, a key, a token). */
export const envText = (min: number) => z.string().min(min).optional();

/**
 * The environment every Gatehouse server understands, under its own prefix
 * (PLATFORM_OPS_, DOCS_, SUPPORT_), so credentials never cross domains. Only
 * the upstream's location and credential are required; the rest is safe by default.
 */
function commonEnvSchema(prefix: string, server: string, upstream: 'required' | 'optional') {
  const url = z.url({ protocol: /^https?$/ }).describe(`Base URL of the ${server} upstream API`);
  const token = z.string().min(1).describe(`Bearer token this server uses for the ${server} upstream API`);
  return z.object({
    // zod keeps a description only on the outermost schema, so describe after optional().
    [`${prefix}_API_URL`]: upstream === 'required' ? url : url.optional().describe(url.description ?? ''),
    [`${prefix}_API_TOKEN`]:
      upstream === 'required' ? token : token.optional().describe(token.description ?? ''),
    [`${prefix}_SCOPES`]: envList
      .default([`${server}:read`])
      .describe('Comma-separated scopes granted to the local operator'),
    [`${prefix}_READ_ONLY`]: envBool.default(false).describe('Hide every side-effecting tool'),
    [`${prefix}_ALLOW_TOOLS`]: envList.default([]).describe('Only these tools exist (comma-separated)'),
    [`${prefix}_DENY_TOOLS`]: envList.default([]).describe('These tools never exist (comma-separated)'),
    [`${prefix}_TOOLSETS`]: envList
      .default([])
      .describe(
        'Only the tools of these toolsets are offered (comma-separated; default all); a connection may narrow further with the X-Gatehouse-Toolsets header',
      ),
    [`${prefix}_AUDIT_FILE`]: envText(1).describe(
      'Append-only audit log file, one writer at a time (stderr when unset; {replica} becomes the replica name)',
    ),
    [`${prefix}_AUDIT_KEY`]: envText(16).describe(
      "HMAC key for the audit chain (when unset: generated into the key folder; an older log's key kept beside it as its name plus .key is still read)",
    ),
    [`${prefix}_AUDIT_KEY_DIR`]: envText(1).describe(
      `Folder (0700) for generated audit keys, apart from the log (default $XDG_STATE_HOME or ~/.local/state, then gatehouse/${server}/keys)`,
    ),
    [`${prefix}_AUDIT_ANCHOR_DIR`]: envText(1).describe(
      `Folder for the signed audit checkpoints and their public key, apart from the log (default $XDG_STATE_HOME or ~/.local/state, then gatehouse/${server}/anchors)`,
    ),
    [`${prefix}_AUDIT_SIGNING_KEY`]: envText(1).describe(
      'Ed25519 private key (PKCS#8 PEM) signing audit checkpoints (generated into the key folder when unset)',
    ),
    [`${prefix}_AUDIT_PUBLIC_KEY`]: envText(1).describe(
      "For verify-audit: the checkpoints' public key you kept (PEM or the base64 line printed at start)",
    ),
    [`${prefix}_AUDIT_CHECKPOINT_RECORDS`]: positiveInt(100, 1_000_000).describe(
      'Records between two signed audit checkpoints',
    ),
    [`${prefix}_AUDIT_CHECKPOINT_MS`]: envInt(5000, 100, 3_600_000).describe(
      'Longest time a written audit record waits for a checkpoint',
    ),
    [`${prefix}_AUDIT_REPLICA`]: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .optional()
      .describe(
        "Names this process's audit chain, and fills {replica} in the audit file path (default: host name)",
      ),
    [`${prefix}_AUDIT_SYSLOG`]: envText(1).describe(
      'Also ship audit records and checkpoints to this syslog receiver: tls://host:6514 (RFC 5424 over TLS, octet-counted)',
    ),
    [`${prefix}_AUDIT_SYSLOG_CA`]: envText(1).describe(
      "PEM of the CA the syslog receiver's certificate chains to (default: the system's CAs)",
    ),
    [`${prefix}_AUDIT_SYSLOG_CERT`]: envText(1).describe(
      'PEM client certificate for a syslog receiver that asks for one (with the key)',
    ),
    [`${prefix}_AUDIT_SYSLOG_KEY`]: envText(1).describe('PEM private key of that client certificate'),
    [`${prefix}_AUDIT_SPOOL_DIR`]: envText(1).describe(
      `Folder of the durable shipping spool, one writer (default $XDG_STATE_HOME or ~/.local/state, then gatehouse/${server}/spool/<replica>); put it on a volume that outlives the container`,
    ),
    [`${prefix}_AUDIT_SPOOL_MAX_MB`]: positiveInt(64, 65_536).describe(
      'Largest spool: past it, side effects are refused until syslog takes the backlog (reads go on)',
    ),
    [`${prefix}_STATE_KEY`]: envText(32).describe(
      'Key (32+ bytes) sealing approval state; share it across replicas',
    ),
    [`${prefix}_APPROVAL_MODE`]: z
      .enum(['elicit', 'two-step'])
      .default('elicit')
      .describe('How humans approve side effects'),
    [`${prefix}_APPROVAL_TTL_S`]: envInt(300, 30, 3600).describe(
      'Seconds an approval stays valid: the two-step token, the sealed approval round and what the caller is told',
    ),
    [`${prefix}_LOG_LEVEL`]: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Application log level (logs go to stderr)'),
    [`${prefix}_TIMEOUT_MS`]: positiveInt(10_000, 120_000).describe('Upstream per-attempt timeout'),
    [`${prefix}_DEADLINE_MS`]: positiveInt(25_000, 300_000).describe(
      'Upstream deadline per call, retries included',
    ),
    [`${prefix}_RETRIES`]: envInt(2, 0, 5).describe('Retries for idempotent upstream requests'),
    [`${prefix}_MAX_RESPONSE_BYTES`]: positiveInt(5 * 1024 * 1024, 64 * 1024 * 1024).describe(
      'Largest upstream response body accepted',
    ),
    [`${prefix}_MAX_IN_FLIGHT`]: positiveInt(64, 10_000).describe(
      'Tool calls this process runs at once; more are refused with BUSY',
    ),
    [`${prefix}_IDLE_COMPACT_MS`]: envInt(1000, 0, 3_600_000).describe(
      'Quiet time after which unused heap goes back to the OS (one compacting GC; 0 = never)',
    ),
    [`${prefix}_YOUNG_GEN_MB`]: envInt(32, 0, 1024).describe(
      "Cap on V8's young generation under load, in MB (a power of two; 0 = V8's own, up to 128)",
    ),
    [`${prefix}_BREAKER_FAILURES`]: positiveInt(5, 1000).describe(
      'Consecutive upstream failures that open the circuit',
    ),
    [`${prefix}_BREAKER_COOLDOWN_MS`]: positiveInt(10_000, 600_000).describe(
      'How long an open circuit waits before a trial request',
    ),
    ...identityEnv(prefix),
  });
}

/** Upstream identity (upstream/identity.ts) and rules (call/rules.ts): both off unless configured. */
function identityEnv(prefix: string) {
  return {
    [`${prefix}_UPSTREAM_IDENTITY`]: z
      .enum(['service', 'exchange'])
      .default('service')
      .describe(
        "As whom the upstream is called: this server's own token, or the caller's token exchanged for one to the upstream (RFC 8693)",
      ),
    [`${prefix}_EXCHANGE_TOKEN_URL`]: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("exchange: the authorization server's token endpoint"),
    [`${prefix}_EXCHANGE_CLIENT_ID`]: envText(1).describe(
      "exchange: this server's client id at the authorization server",
    ),
    [`${prefix}_EXCHANGE_CLIENT_SECRET`]: envText(1).describe('exchange: its client secret'),
    [`${prefix}_EXCHANGE_AUDIENCE`]: envText(1).describe(
      'exchange: the audience asked for (default the upstream API URL)',
    ),
    [`${prefix}_EXCHANGE_TIMEOUT_MS`]: positiveInt(3_000, 60_000).describe(
      'exchange: how long the token endpoint may take before the call fails',
    ),
    [`${prefix}_IDENTITY_TOKEN`]: envText(1).describe(
      "stdio: the local user's access token (usually as _FILE), exchanged like an HTTP caller's",
    ),
    [`${prefix}_POLICY_FILE`]: envText(1).describe(
      'Cedar policy narrowing who may call which tool with which arguments (see the README)',
    ),
  };
}

interface IdentityConfig {
  mode: 'service' | 'exchange';
  tokenUrl: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  audience: string | undefined;
  timeoutMs: number;
  localToken: string | undefined;
}

export interface CommonConfig {
  identity: IdentityConfig;
  policyFile: string | undefined;
  prefix: string;
  upstream: { url: string; token: string } | undefined;
  scopes: string[];
  readOnly: boolean;
  allowTools: string[];
  denyTools: string[];
  /** The operator's toolsets; empty: every toolset. */
  toolsets: string[];
  auditFile: string | undefined;
  auditKey: string | undefined;
  /** Where the audit trail keeps its keys and checkpoints, and how often it checkpoints. */
  auditTrail: {
    keyDir: string | undefined;
    anchorDir: string | undefined;
    signingKey: string | undefined;
    replica: string | undefined;
    checkpointRecords: number;
    checkpointMs: number;
  };
  /** Shipping the trail to syslog; undefined unless `<P>_AUDIT_SYSLOG` is set. */
  auditShip:
    | {
        syslog: string;
        ca: string | undefined;
        cert: string | undefined;
        key: string | undefined;
        spoolDir: string | undefined;
        spoolMaxBytes: number;
      }
    | undefined;
  stateKey: string | undefined;
  approvalMode: 'elicit' | 'two-step';
  approvalTtlS: number;
  logLevel: string;
  timeoutMs: number;
  deadlineMs: number;
  retries: number;
  maxResponseBytes: number;
  maxInFlight: number;
  idleCompactMs: number;
  /** Cap on V8's young generation in bytes (0: V8 sizes it). */
  youngGenBytes: number;
  breaker: { consecutiveFailures: number; halfOpenAfterMs: number };
}

/** `NAME_FILE` may stand in for any `NAME` (the container-secret convention). */
export function resolveFileVariables(
  env: NodeJS.ProcessEnv,
  names: readonly string[],
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of names) {
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (direct !== undefined && direct !== '') out[name] = direct;
    else if (file) {
      try {
        out[name] = readFileSync(file, 'utf8').trim();
      } catch (error) {
        throw new ConfigError(
          `${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    }
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue, values: Record<string, unknown>): string {
  const name = String(issue.path[0] ?? '');
  const description = issue.path.length ? '' : issue.message;
  if (values[name] === undefined) return `${name} is required${description ? `: ${description}` : ''}`;
  return `${name} is invalid: ${issue.message}`;
}

/**
 * Parses the common and server-specific environment in one step and returns a
 * frozen config; any problem becomes one ConfigError line naming the variable.
 */
export function loadConfig<Extra extends z.ZodObject>(
  options: { prefix: string; server: string; upstream: 'required' | 'optional'; extra: Extra },
  env: NodeJS.ProcessEnv,
): Readonly<CommonConfig & { env: z.infer<Extra> }> {
  const schema = commonEnvSchema(options.prefix, options.server, options.upstream).extend(
    options.extra.shape,
  );
  const names = Object.keys(schema.shape);
  const values = resolveFileVariables(env, names);
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ConfigError(first ? describeIssue(first, values) : 'invalid configuration');
  }
  const data = parsed.data as Record<string, unknown>;
  const p = options.prefix;
  const url = data[`${p}_API_URL`] as string | undefined;
  const token = data[`${p}_API_TOKEN`] as string | undefined;
  if ((url === undefined) !== (token === undefined)) {
    throw new ConfigError(
      url === undefined
        ? `${p}_API_URL is required when ${p}_API_TOKEN is set`
        : `${p}_API_TOKEN is required when ${p}_API_URL is set`,
    );
  }
  const identity: IdentityConfig = {
    mode: data[`${p}_UPSTREAM_IDENTITY`] as 'service' | 'exchange',
    tokenUrl: data[`${p}_EXCHANGE_TOKEN_URL`] as string | undefined,
    clientId: data[`${p}_EXCHANGE_CLIENT_ID`] as string | undefined,
    clientSecret: data[`${p}_EXCHANGE_CLIENT_SECRET`] as string | undefined,
    audience: data[`${p}_EXCHANGE_AUDIENCE`] as string | undefined,
    timeoutMs: data[`${p}_EXCHANGE_TIMEOUT_MS`] as number,
    localToken: data[`${p}_IDENTITY_TOKEN`] as string | undefined,
  };
  if (identity.mode === 'exchange') {
    const missing = [
      ['EXCHANGE_TOKEN_URL', identity.tokenUrl],
      ['EXCHANGE_CLIENT_ID', identity.clientId],
      ['EXCHANGE_CLIENT_SECRET', identity.clientSecret],
      ['API_URL', url],
    ].find(([, value]) => !value);
    if (missing) throw new ConfigError(`${p}_${missing[0]} is required when ${p}_UPSTREAM_IDENTITY=exchange`);
  }
  const extra = Object.fromEntries(
    Object.keys(options.extra.shape).map((k) => [k, data[k]]),
  ) as z.infer<Extra>;
  return Object.freeze({
    prefix: p,
    identity,
    policyFile: data[`${p}_POLICY_FILE`] as string | undefined,
    upstream: url && token ? { url, token } : undefined,
    scopes: data[`${p}_SCOPES`] as string[],
    readOnly: data[`${p}_READ_ONLY`] as boolean,
    allowTools: data[`${p}_ALLOW_TOOLS`] as string[],
    denyTools: data[`${p}_DENY_TOOLS`] as string[],
    toolsets: data[`${p}_TOOLSETS`] as string[],
    auditFile: data[`${p}_AUDIT_FILE`] as string | undefined,
    auditKey: data[`${p}_AUDIT_KEY`] as string | undefined,
    auditTrail: {
      keyDir: data[`${p}_AUDIT_KEY_DIR`] as string | undefined,
      anchorDir: data[`${p}_AUDIT_ANCHOR_DIR`] as string | undefined,
      signingKey: data[`${p}_AUDIT_SIGNING_KEY`] as string | undefined,
      replica: data[`${p}_AUDIT_REPLICA`] as string | undefined,
      checkpointRecords: data[`${p}_AUDIT_CHECKPOINT_RECORDS`] as number,
      checkpointMs: data[`${p}_AUDIT_CHECKPOINT_MS`] as number,
    },
    auditShip: data[`${p}_AUDIT_SYSLOG`]
      ? {
          syslog: data[`${p}_AUDIT_SYSLOG`] as string,
          ca: data[`${p}_AUDIT_SYSLOG_CA`] as string | undefined,
          cert: data[`${p}_AUDIT_SYSLOG_CERT`] as string | undefined,
          key: data[`${p}_AUDIT_SYSLOG_KEY`] as string | undefined,
          spoolDir: data[`${p}_AUDIT_SPOOL_DIR`] as string | undefined,
          spoolMaxBytes: (data[`${p}_AUDIT_SPOOL_MAX_MB`] as number) * 1024 * 1024,
        }
      : undefined,
    stateKey: data[`${p}_STATE_KEY`] as string | undefined,
    approvalMode: data[`${p}_APPROVAL_MODE`] as 'elicit' | 'two-step',
    approvalTtlS: data[`${p}_APPROVAL_TTL_S`] as number,
    logLevel: data[`${p}_LOG_LEVEL`] as string,
    timeoutMs: data[`${p}_TIMEOUT_MS`] as number,
    deadlineMs: data[`${p}_DEADLINE_MS`] as number,
    retries: data[`${p}_RETRIES`] as number,
    maxResponseBytes: data[`${p}_MAX_RESPONSE_BYTES`] as number,
    maxInFlight: data[`${p}_MAX_IN_FLIGHT`] as number,
    idleCompactMs: data[`${p}_IDLE_COMPACT_MS`] as number,
    youngGenBytes: (data[`${p}_YOUNG_GEN_MB`] as number) * 1024 * 1024,
    breaker: {
      consecutiveFailures: data[`${p}_BREAKER_FAILURES`] as number,
      halfOpenAfterMs: data[`${p}_BREAKER_COOLDOWN_MS`] as number,
    },
    env: extra,
  });
}

/** The env table for --help and the README: name, whether required, description. */
export function envTable(options: {
  prefix: string;
  server: string;
  upstream: 'required' | 'optional';
  extra: z.ZodObject;
}) {
  const schema = commonEnvSchema(options.prefix, options.server, options.upstream).extend(
    options.extra.shape,
  );
  return Object.entries(schema.shape).map(([name, field]) => {
    const f = field as z.ZodType;
    return { name, required: !f.safeParse(undefined).success, description: f.description ?? '' };
  });
}
