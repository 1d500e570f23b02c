import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import {
  createRequestStateCodec,
  type RequestStateCodec,
  type StandardSchemaWithJSON,
  type Tool,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { defaultKeyDir } from '../audit/keys.ts';
import { AuditLog } from '../audit/log.ts';
import { ConfigError } from '../config/env.ts';
import { assertKnownNames } from '../config/names.ts';
import { type AnyTool, annotationsFor } from '../define/define.ts';
import { advertise, jsonSchemaOf } from '../define/schema.ts';
import { createLogger, type Logger, secretScrubber } from '../telemetry/logger.ts';
import { IdleCompactor } from '../telemetry/memory.ts';
import { Upstream } from '../upstream/client.ts';
import { UpstreamIdentity } from '../upstream/identity.ts';
import { ApprovalGate } from './approval.ts';
import {
  type Announcer,
  type AnyServerDefinition,
  needsApproval,
  type ServerConfig,
  toolsetProblems,
  toolsOf,
} from './definition.ts';
import type { PolicySettings } from './policy.ts';
import type { Rules } from './rules.ts';

/** Per-tool wire schemas, converted once at start-up and shared by every server instance. */
export interface PreparedTool {
  tool: AnyTool;
  /** The tool's input, strict (unknown arguments are errors), plus approval_token in two-step mode. */
  input: z.ZodObject;
  inputSchema: StandardSchemaWithJSON;
  outputSchema: StandardSchemaWithJSON;
  takesApprovalToken: boolean;
  /** The tool's tools/list entry, built once: exactly what the SDK would list for it. */
  listed: Tool;
}

/** The process-wide, immutable part of a running server; per-connection instances are cheap on top of it. */
export interface Runtime {
  readonly definition: AnyServerDefinition;
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly audit: AuditLog;
  readonly upstream: Upstream | undefined;
  readonly approval: ApprovalGate;
  readonly codec: RequestStateCodec<unknown>;
  readonly policy: PolicySettings;
  /** The Cedar rules, when `<P>_POLICY_FILE` is set: the last filter, each call's last authorization. */
  readonly rules: Rules | undefined;
  readonly deps: unknown;
  readonly tools: ReadonlyMap<string, PreparedTool>;
  /** Tool calls running now, against config.maxInFlight: the shedding a stdio peer cannot get from HTTP admission. */
  readonly inFlight: { count: number };
  /** Hands memory back to the OS when the process goes quiet; transports `touch()` it on every arrival. */
  readonly idle: IdleCompactor;
  /** Change events from createDeps' announcer; instances subscribe while connected. */
  readonly changes: EventEmitter<{ listChanged: []; updated: [string] }>;
  close(): Promise<void>;
}

/** The `exchange` identity, when configured (loadConfig has checked its settings are complete). */
function upstreamIdentity(
  definition: AnyServerDefinition,
  config: ServerConfig,
): UpstreamIdentity | undefined {
  const { identity, upstream } = config;
  if (identity.mode !== 'exchange' || !upstream) return undefined;
  return new UpstreamIdentity({
    ...identity,
    mode: 'exchange',
    audience: identity.audience ?? upstream.url,
    prefix: config.prefix,
    upstreamName: definition.upstreamName,
  });
}

export async function createRuntime(
  definition: AnyServerDefinition,
  config: ServerConfig,
  options: { readOnly?: boolean; logDestination?: Parameters<typeof createLogger>[0]['destination'] } = {},
): Promise<Runtime> {
  // Names in the configuration must exist: a mistyped deny list would fail open.
  const defined = toolsOf(definition, config.env);
  const problems = toolsetProblems(definition, defined);
  if (problems.length > 0) throw new ConfigError(`${definition.name}: ${problems[0]}`);
  const toolNames = defined.map((tool) => tool.name);
  assertKnownNames(`${config.prefix}_ALLOW_TOOLS`, 'tool', config.allowTools, toolNames);
  assertKnownNames(`${config.prefix}_DENY_TOOLS`, 'tool', config.denyTools, toolNames);
  assertKnownNames(`${config.prefix}_SCOPES`, 'scope', config.scopes, Object.keys(definition.scopes));
  assertKnownNames(`${config.prefix}_TOOLSETS`, 'toolset', config.toolsets, Object.keys(definition.toolsets));
  // Loaded (Cedar and all) only when configured; a malformed file stops the start with one line.
  const rules = config.policyFile
    ? await import('./rules.ts').then(({ Rules }) =>
        Rules.load(config.policyFile!, defined, `${config.prefix}_POLICY_FILE`),
      )
    : undefined;
  const scrub = secretScrubber([
    config.upstream?.token,
    config.auditKey,
    config.stateKey,
    config.auditTrail.signingKey,
    config.identity.clientSecret,
    config.identity.localToken,
    config.auditShip?.key,
  ]);
  const log = createLogger({
    name: definition.name,
    level: config.logLevel,
    destination: options.logDestination,
    scrub,
  });
  const ship = config.auditShip ? await startShipping(definition.name, config, log) : undefined;
  let audit: AuditLog;
  try {
    audit = new AuditLog({
      ship,
      server: definition.name,
      file: config.auditFile,
      key: config.auditKey,
      scrub,
      envPrefix: config.prefix,
      ...config.auditTrail,
      log,
    });
  } catch (error) {
    await ship?.close(0);
    throw error;
  }
  audit.policy = rules?.hash;
  const upstream = config.upstream
    ? new Upstream({
        name: definition.upstreamName,
        baseUrl: config.upstream.url,
        token: config.upstream.token,
        timeoutMs: config.timeoutMs,
        deadlineMs: config.deadlineMs,
        retries: config.retries,
        maxResponseBytes: config.maxResponseBytes,
        breaker: config.breaker,
        userAgent: `${definition.bin}/${definition.version}`,
        log,
        identity: upstreamIdentity(definition, config),
      })
    : undefined;
  if (config.approvalMode === 'two-step')
    log.warn(
      { approvalMode: 'two-step' },
      'two-step approval is a development mode: the model can redeem its own token, so no human approves these calls (recorded as token_approved)',
    );
  if (!config.stateKey) log.debug('no state key configured: approvals can only be completed by this process');
  const stateKey = config.stateKey ?? randomBytes(32).toString('base64url');
  const codec = createRequestStateCodec<unknown>({ key: stateKey, ttlSeconds: config.approvalTtlS });
  const approval = new ApprovalGate({
    server: definition.name,
    mode: config.approvalMode,
    codec,
    ttlSeconds: config.approvalTtlS,
    bindingKey: stateKey,
  });
  const policy: PolicySettings = {
    readOnly: config.readOnly || options.readOnly === true,
    allowTools: new Set(config.allowTools),
    denyTools: new Set(config.denyTools),
    ...(config.toolsets.length > 0 ? { toolsets: new Set(config.toolsets) } : {}),
  };
  const tools = new Map<string, PreparedTool>();
  for (const tool of defined) {
    const takesApprovalToken = config.approvalMode === 'two-step' && needsApproval(tool);
    const input = (
      takesApprovalToken
        ? tool.input.extend({
            approval_token: z
              .string()
              .max(4096)
              .optional()
              .describe(
                'Two-step approval: the token returned by the first call. Omit it on the first call.',
              ),
          })
        : tool.input
    ).strict();
    const inputJson = jsonSchemaOf(input, 'input');
    const outputJson = jsonSchemaOf(tool.output, 'output');
    tools.set(tool.name, {
      tool,
      input,
      inputSchema: advertise(input, 'input', inputJson),
      outputSchema: advertise(tool.output, 'output', outputJson),
      takesApprovalToken,
      listed: {
        name: tool.name,
        title: tool.title,
        description: tool.description,
        inputSchema: inputJson as Tool['inputSchema'],
        outputSchema: outputJson as Tool['outputSchema'],
        annotations: annotationsFor(tool),
      },
    });
  }
  const changes = new EventEmitter<{ listChanged: []; updated: [string] }>();
  changes.setMaxListeners(0);
  const announce: Announcer = {
    resourceListChanged: () => changes.emit('listChanged'),
    resourceUpdated: (uri) => changes.emit('updated', uri),
  };
  let deps: unknown;
  try {
    deps = await definition.createDeps({ config, log, upstream, announce });
  } catch (error) {
    audit.close(); // lets go of the audit file's lock
    throw error;
  }
  const inFlight = { count: 0 };
  const MB = 1024 * 1024;
  const idle = new IdleCompactor({
    idleMs: config.idleCompactMs,
    busy: () => inFlight.count > 0,
    youngBytes: config.youngGenBytes,
    onCompact: ({ beforeBytes, afterBytes, ms }) =>
      log.debug(
        {
          heapMbBefore: Math.round(beforeBytes / MB),
          heapMbAfter: Math.round(afterBytes / MB),
          ms: Math.round(ms),
        },
        'idle: heap compacted',
      ),
  });
  return {
    definition,
    config,
    log,
    audit,
    upstream,
    approval,
    codec,
    policy,
    rules,
    deps,
    tools,
    changes,
    inFlight,
    idle,
    async close() {
      idle.stop();
      await definition.disposeDeps?.(deps);
      audit.close();
      await Promise.all([audit.shipped(), upstream?.close()]);
    },
  };
}

/** Loads audit/ship/ only when shipping is configured: a server without it starts as before. */
async function startShipping(server: string, config: ServerConfig, log: Logger) {
  const settings = config.auditShip!;
  const { startShipping: start } = await import('../audit/ship/index.ts');
  const replica = config.auditTrail.replica ?? hostname();
  const p = config.prefix;
  return start(
    {
      ...settings,
      spoolDir:
        settings.spoolDir?.replaceAll('{replica}', replica) ??
        join(dirname(defaultKeyDir(server)), 'spool', replica),
    },
    { app: server, replica },
    log,
    { syslog: `${p}_AUDIT_SYSLOG`, spoolDir: `${p}_AUDIT_SPOOL_DIR` },
  );
}
