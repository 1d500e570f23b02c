import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  type CallToolResult,
  completable,
  createRequestStateCodec,
  type GetPromptResult,
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceResult,
  type RequestStateCodec,
  ResourceTemplate,
  type ServerContext,
  type StandardSchemaWithJSON,
  UriTemplate,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import {
  type AuditDecision,
  AuditLog,
  type AuditOutcome,
  type AuditRecord,
  redactArgs,
} from '../audit/log.ts';
import type { CommonConfig } from '../config/env.ts';
import {
  type AnyPrompt,
  type AnyResource,
  type AnyTool,
  annotationsFor,
  type ReadContext,
  type ToolContext,
} from '../define/define.ts';
import { GatehouseError, isGatehouseError } from '../define/errors.ts';
import { advertise, describeIssues } from '../define/schema.ts';
import { UNTRUSTED_NOTE } from '../define/untrusted.ts';
import { createLogger, type Logger, secretScrubber } from '../telemetry/logger.ts';
import { IdleCompactor } from '../telemetry/memory.ts';
import { startMcpSpan } from '../telemetry/tracing.ts';
import { Upstream } from '../upstream/client.ts';
import { ApprovalGate } from './approval.ts';
import { missingScopes, type PolicySettings, type Principal, toolVisibility } from './policy.ts';

/** Everything one domain server is: identity, configuration surface, capabilities, and how to build its dependencies. */
export interface ServerDefinition<Deps = unknown, Extra extends z.ZodObject = z.ZodObject> {
  /** Domain name, also the scope prefix: `platform-ops` → `platform-ops:read`. */
  name: string;
  title: string;
  version: string;
  /** Binary name, for --help and messages. */
  bin: string;
  description: string;
  /** Env prefix without the trailing underscore, e.g. `PLATFORM_OPS`. */
  envPrefix: string;
  /** Whether the server can run without its upstream API configured. */
  upstream: 'required' | 'optional';
  /** How messages name the upstream, e.g. "platform-ops API". */
  upstreamName: string;
  /** Server-specific environment (full variable names). */
  env: Extra;
  /** The public scope vocabulary with a line each. */
  scopes: Record<string, string>;
  instructions: string;
  createDeps: (setup: {
    config: ServerConfig<Extra>;
    log: Logger;
    upstream: Upstream | undefined;
    announce: Announcer;
  }) => Deps | Promise<Deps>;
  /** Releases what createDeps opened (watchers, databases). */
  disposeDeps?: (deps: Deps) => Promise<void> | void;
  /**
   * The tools, or a function of the server's own parsed variables (`env`) that
   * returns them, for a surface shaped by configuration (a cap in a schema).
   * Without a configuration (README tables, registry checks) the function gets
   * the variables' defaults.
   */
  tools: ReadonlyArray<AnyTool<Deps>> | ((env: z.infer<Extra>) => ReadonlyArray<AnyTool<Deps>>);
  resources?: ReadonlyArray<AnyResource<Deps>>;
  prompts?: ReadonlyArray<AnyPrompt<Deps>>;
}

export type ServerConfig<Extra extends z.ZodObject = z.ZodObject> = Readonly<
  CommonConfig & { env: z.infer<Extra> }
>;

// biome-ignore lint/suspicious/noExplicitAny: definitions are stored type-erased once built.
export type AnyServerDefinition = ServerDefinition<any, any>;

export function defineServer<Deps, Extra extends z.ZodObject>(
  definition: ServerDefinition<Deps, Extra>,
): ServerDefinition<Deps, Extra> {
  return definition;
}

/** A definition's tools for one configuration (its own variables' defaults when none is given). */
export function toolsOf(definition: AnyServerDefinition, env?: Record<string, unknown>): readonly AnyTool[] {
  const { tools } = definition;
  return typeof tools === 'function' ? tools(env ?? definition.env.parse({})) : tools;
}

export const needsApproval = (tool: Pick<AnyTool, 'effect' | 'approval'>): boolean =>
  tool.effect === 'destructive' || (tool.effect === 'write' && tool.approval === 'human');

/**
 * Lets a server's own code tell connected clients that something changed
 * (a docs index picked up a file). Each live server instance forwards it to
 * its client as the protocol revision allows.
 */
export interface Announcer {
  resourceListChanged(): void;
  resourceUpdated(uri: string): void;
}

/** Per-tool wire schemas, converted once at start-up and shared by every server instance. */
interface PreparedTool {
  tool: AnyTool;
  /** The tool's input, strict (unknown arguments are errors), plus approval_token in two-step mode. */
  input: z.ZodObject;
  inputSchema: StandardSchemaWithJSON;
  outputSchema: StandardSchemaWithJSON;
  takesApprovalToken: boolean;
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

export async function createRuntime(
  definition: AnyServerDefinition,
  config: ServerConfig,
  options: { readOnly?: boolean; logDestination?: Parameters<typeof createLogger>[0]['destination'] } = {},
): Promise<Runtime> {
  const scrub = secretScrubber([config.upstream?.token, config.auditKey, config.stateKey]);
  const log = createLogger({
    name: definition.name,
    level: config.logLevel,
    destination: options.logDestination,
    scrub,
  });
  const audit = new AuditLog({
    server: definition.name,
    file: config.auditFile,
    key: config.auditKey,
    scrub,
  });
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
      })
    : undefined;
  if (!config.stateKey) log.debug('no state key configured: approvals can only be completed by this process');
  const stateKey = config.stateKey ?? randomBytes(32).toString('base64url');
  const codec = createRequestStateCodec<unknown>({ key: stateKey, ttlSeconds: 600 });
  const approval = new ApprovalGate({
    server: definition.name,
    mode: config.approvalMode,
    codec,
    ttlSeconds: config.approvalMode === 'two-step' ? 300 : 600,
    bindingKey: stateKey,
  });
  const policy: PolicySettings = {
    readOnly: config.readOnly || options.readOnly === true,
    allowTools: new Set(config.allowTools),
    denyTools: new Set(config.denyTools),
  };
  const tools = new Map<string, PreparedTool>();
  for (const tool of toolsOf(definition, config.env)) {
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
    tools.set(tool.name, {
      tool,
      input,
      inputSchema: advertise(input, 'input'),
      outputSchema: advertise(tool.output, 'output'),
      takesApprovalToken,
    });
  }
  const changes = new EventEmitter<{ listChanged: []; updated: [string] }>();
  changes.setMaxListeners(0);
  const announce: Announcer = {
    resourceListChanged: () => changes.emit('listChanged'),
    resourceUpdated: (uri) => changes.emit('updated', uri),
  };
  const deps = await definition.createDeps({ config, log, upstream, announce });
  const inFlight = { count: 0 };
  const MB = 1024 * 1024;
  const idle = new IdleCompactor({
    idleMs: config.idleCompactMs,
    busy: () => inFlight.count > 0,
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
    deps,
    tools,
    changes,
    inFlight,
    idle,
    async close() {
      idle.stop();
      await definition.disposeDeps?.(deps);
      audit.close();
    },
  };
}

/**
 * A tool handler's context. `log` is a getter on the prototype: a child
 * logger compiles pino's redaction rules, so it is built only when a handler
 * logs, and `{ ...ctx }` (handlers spread ctx into upstream options) neither
 * builds nor copies it.
 */
class CallContext implements ToolContext<unknown> {
  readonly deps: unknown;
  readonly principal: Principal;
  readonly callId: string;
  readonly signal: AbortSignal;
  readonly requestId: string;
  readonly idempotencyKey: string | undefined;
  readonly onUpstream: ToolContext<unknown>['onUpstream'];
  readonly progress: ToolContext<unknown>['progress'];
  private readonly parentLog: Logger;
  private readonly bindings: Record<string, string>;
  private child: Logger | undefined;

  constructor(
    parentLog: Logger,
    bindings: Record<string, string>,
    fields: Omit<ToolContext<unknown>, 'log'> & { idempotencyKey: string | undefined },
  ) {
    this.parentLog = parentLog;
    this.bindings = bindings;
    this.deps = fields.deps;
    this.principal = fields.principal;
    this.callId = fields.callId;
    this.signal = fields.signal;
    this.requestId = fields.requestId;
    this.idempotencyKey = fields.idempotencyKey;
    this.onUpstream = fields.onUpstream;
    this.progress = fields.progress;
  }

  get log(): Logger {
    this.child ??= this.parentLog.child(this.bindings);
    return this.child;
  }
}

function principalRef(principal: Principal): AuditRecord['principal'] {
  return {
    id: principal.id,
    kind: principal.kind,
    ...(principal.clientId ? { clientId: principal.clientId } : {}),
  };
}

function toGatehouseError(error: unknown, signal: AbortSignal, log: Logger): GatehouseError {
  if (isGatehouseError(error)) return error;
  if (signal.aborted) return new GatehouseError('CANCELLED', 'The request was cancelled by the client.');
  log.error({ err: error }, 'unexpected error in handler');
  return new GatehouseError(
    'INTERNAL',
    'The server hit an unexpected error. It has been logged; try again, and report it if it persists.',
  );
}

/** Every failure a tool can have, as the model sees it: a stable code first, then what to do. */
export function toolError(error: GatehouseError): CallToolResult {
  const token = error.details?.approvalToken;
  const lines = [`[${error.code}] ${error.message}`];
  if (typeof token === 'string') lines.push(`approval_token: ${token}`);
  if (error.retryAfterSeconds !== undefined) lines.push(`Retry after: ${error.retryAfterSeconds} s`);
  return {
    isError: true,
    content: [{ type: 'text', text: lines.join('\n') }],
    _meta: { 'dev.gatehouse/error': error.toJSON() },
  };
}

type Phase = 'validate' | 'authorize' | 'approve' | 'execute';

/** Largest number of array elements and object members one call's arguments may hold. */
const MAX_ARGUMENT_ELEMENTS = 5_000;

/** Counts values in a JSON value, stopping as soon as the limit is passed. */
function countElements(value: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const item = stack.pop();
    if (item && typeof item === 'object') {
      const children = Array.isArray(item) ? item : Object.values(item);
      count += children.length;
      for (const child of children) if (child && typeof child === 'object') stack.push(child);
    }
  }
  return count;
}

function decisionFor(phase: Phase, error: GatehouseError, approved: boolean): AuditDecision {
  if (phase === 'validate') return 'invalid';
  if (phase === 'authorize') return 'denied';
  if (phase === 'approve') {
    if (error.code === 'APPROVAL_DECLINED') return 'declined';
    if (error.code === 'APPROVAL_REQUIRED') return 'approval_requested';
    return 'denied';
  }
  return approved ? 'approved' : 'allowed';
}

/**
 * The single registration seam. Tools never touch McpServer: this is where
 * validation, scopes, approval, audit, cancellation and error mapping happen,
 * in that order, for every call.
 */
async function runTool(
  runtime: Runtime,
  prepared: PreparedTool,
  rawArgs: unknown,
  sdk: ServerContext,
  mcp: McpServer,
  principal: Principal,
): Promise<CallToolResult> {
  const { tool } = prepared;
  const started = performance.now();
  const requestId = randomUUID();
  let callId: string = randomUUID();
  let phase: Phase = 'validate';
  let approvedId: string | undefined;
  let auditArgs: unknown = rawArgs;
  let upstreamStatus: number | undefined;
  let upstreamCalls = 0;
  let outcome: AuditOutcome = 'ok';
  let decision: AuditDecision = 'allowed';
  let errorCode: string | undefined;

  const base = { principal: principalRef(principal), kind: 'tool' as const, name: tool.name, requestId };
  const span = startMcpSpan('tools/call', tool.name, sdk.mcpReq, requestId);
  // Digested once: the validated arguments, or the raw ones when validation fails.
  let argsDigest: string | undefined;
  let admitted = false;
  try {
    if (runtime.inFlight.count >= runtime.config.maxInFlight) {
      phase = 'authorize';
      throw new GatehouseError(
        'BUSY',
        `This server is already running ${runtime.config.maxInFlight} tool calls. Wait for some to finish, then call again.`,
        { retryAfterSeconds: 1 },
      );
    }
    runtime.inFlight.count += 1;
    admitted = true;
    const elements = countElements(rawArgs, MAX_ARGUMENT_ELEMENTS);
    if (elements > MAX_ARGUMENT_ELEMENTS) {
      auditArgs = { elements };
      throw new GatehouseError(
        'INVALID_ARGUMENT',
        `The arguments of ${tool.name} hold more than ${MAX_ARGUMENT_ELEMENTS} values. Send fewer.`,
      );
    }
    const parsed = prepared.input.safeParse(rawArgs ?? {});
    if (!parsed.success) {
      throw new GatehouseError(
        'INVALID_ARGUMENT',
        `Invalid arguments for ${tool.name}: ${describeIssues(parsed.error)}. Fix them and call again.`,
      );
    }
    const { approval_token: twoStepToken, ...args } = parsed.data as Record<string, unknown>;
    auditArgs = args;
    argsDigest = runtime.audit.digest(args);

    phase = 'authorize';
    const missing = missingScopes(principal, [tool.scope, ...(tool.extraScopes?.(args) ?? [])]);
    if (missing.length > 0) {
      throw new GatehouseError(
        'DENIED',
        `${tool.name} with these arguments requires the scope ${missing.join(', ')}, which this caller does not hold. Ask the operator to grant it; do not retry.`,
        {
          details: { requiredScopes: missing },
        },
      );
    }

    // Every side effect carries a key so a retried upstream request cannot act twice:
    // the approval id when a human approved it, this call's id otherwise.
    let idempotencyKey: string | undefined = tool.effect === 'read' ? undefined : callId;
    if (needsApproval(tool)) {
      phase = 'approve';
      const result = await runtime.approval.check({
        tool,
        args,
        principal,
        ctx: sdk,
        mcp,
        twoStepToken: twoStepToken as string | undefined,
      });
      callId = result.callId;
      approvedId = result.approvalId;
      if (result.kind === 'pending') {
        decision = 'approval_requested';
        outcome = 'pending';
        return result.result as unknown as CallToolResult;
      }
      idempotencyKey = result.approvalId;
    }

    phase = 'execute';
    decision = approvedId ? 'approved' : 'allowed';
    if (tool.effect !== 'read') {
      // The side effect may only run once its intent is on record.
      try {
        runtime.audit.write(
          {
            ...base,
            event: 'intent',
            callId,
            args: redactArgs(args, tool.sensitive),
            argsDigest,
            decision,
            outcome: 'pending',
            ...(approvedId ? { approval: { id: approvedId, mode: runtime.approval.mode } } : {}),
          },
          { durable: true },
        );
      } catch (error) {
        runtime.log.error({ err: error }, 'audit write failed before a side effect');
        throw new GatehouseError(
          'AUDIT_UNAVAILABLE',
          'The audit log cannot be written, so this action was not run. The operator must fix the audit destination.',
        );
      }
    }
    const progressToken = sdk.mcpReq._meta?.progressToken;
    const ctx = new CallContext(
      runtime.log,
      { tool: tool.name, requestId },
      {
        deps: runtime.deps,
        principal,
        callId,
        signal: sdk.mcpReq.signal,
        requestId,
        idempotencyKey,
        onUpstream: ({ status }) => {
          upstreamCalls += 1;
          upstreamStatus = status;
        },
        progress: async (progress, total, message) => {
          if (progressToken === undefined) return;
          await sdk.mcpReq
            .notify({
              method: 'notifications/progress',
              params: {
                progressToken,
                progress,
                ...(total === undefined ? {} : { total }),
                ...(message ? { message } : {}),
              },
            })
            .catch(() => undefined);
        },
      },
    );
    const output = await span.run(() => tool.handler(args, ctx));
    if (sdk.mcpReq.signal.aborted)
      throw new GatehouseError('CANCELLED', 'The request was cancelled by the client.');
    const checked = tool.output.safeParse(output);
    if (!checked.success) {
      runtime.log.error(
        { tool: tool.name, issues: checked.error.issues.slice(0, 5) },
        'tool output failed its own schema',
      );
      throw new GatehouseError(
        'INTERNAL',
        `${tool.name} produced a result that does not match its declared output schema. This is a server bug; it has been logged.`,
      );
    }
    const structured = checked.data as Record<string, unknown>;
    return {
      content: [{ type: 'text', text: tool.text ? tool.text(structured) : JSON.stringify(structured) }],
      structuredContent: structured,
    };
  } catch (caught) {
    const error = toGatehouseError(caught, sdk.mcpReq.signal, runtime.log);
    decision = decisionFor(phase, error, approvedId !== undefined);
    errorCode = error.code;
    outcome =
      error.code === 'CANCELLED'
        ? 'cancelled'
        : decision === 'approval_requested' && error.details?.approvalToken
          ? 'pending'
          : 'error';
    if (typeof error.details?.callId === 'string') callId = error.details.callId;
    return toolError(error);
  } finally {
    if (admitted) runtime.inFlight.count -= 1;
    span.end({ outcome, decision, errorCode, upstreamCalls });
    try {
      runtime.audit.write({
        ...base,
        event: 'call',
        callId,
        args: redactArgs(auditArgs ?? {}, tool.sensitive),
        argsDigest: argsDigest ?? runtime.audit.digest(rawArgs ?? {}),
        decision,
        outcome,
        ...(errorCode ? { errorCode } : {}),
        ...(approvedId ? { approval: { id: approvedId, mode: runtime.approval.mode } } : {}),
        ...(upstreamStatus === undefined ? {} : { upstreamStatus }),
        upstreamCalls,
        durationMs: Math.round(performance.now() - started),
      });
    } catch (error) {
      runtime.log.error({ err: error, tool: tool.name }, 'audit write failed');
    }
  }
}

function readContext(
  runtime: Runtime,
  principal: Principal,
  signal: AbortSignal,
  onUpstream?: ReadContext<unknown>['onUpstream'],
): ReadContext<unknown> {
  const requestId: string = randomUUID();
  return { deps: runtime.deps, principal, log: runtime.log, signal, requestId, onUpstream };
}

/** Resource reads and prompt gets share this: audit, typed errors as JSON-RPC errors. */
async function audited<T>(
  runtime: Runtime,
  principal: Principal,
  kind: 'resource' | 'prompt',
  name: string,
  args: unknown,
  request: ServerContext['mcpReq'],
  run: (ctx: ReadContext<unknown>) => Promise<T>,
): Promise<T> {
  const { signal } = request;
  const started = performance.now();
  let upstreamStatus: number | undefined;
  let upstreamCalls = 0;
  const ctx = readContext(runtime, principal, signal, ({ status }) => {
    upstreamCalls += 1;
    upstreamStatus = status;
  });
  let errorCode: string | undefined;
  let outcome: AuditOutcome = 'ok';
  const span = startMcpSpan(
    kind === 'resource' ? 'resources/read' : 'prompts/get',
    name,
    request,
    ctx.requestId,
  );
  try {
    return await span.run(() => run(ctx));
  } catch (caught) {
    const error = toGatehouseError(caught, signal, runtime.log);
    errorCode = error.code;
    outcome = error.code === 'CANCELLED' ? 'cancelled' : 'error';
    const code =
      error.code === 'NOT_FOUND' || error.code === 'INVALID_ARGUMENT'
        ? ProtocolErrorCode.InvalidParams
        : ProtocolErrorCode.InternalError;
    throw new ProtocolError(code, `[${error.code}] ${error.message}`, error.toJSON());
  } finally {
    span.end({ outcome, errorCode, upstreamCalls });
    try {
      runtime.audit.write({
        principal: principalRef(principal),
        event: 'call',
        kind,
        name,
        callId: ctx.requestId,
        requestId: ctx.requestId,
        args: redactArgs(args ?? {}),
        argsDigest: runtime.audit.digest(args ?? {}),
        decision: errorCode === 'INVALID_ARGUMENT' ? 'invalid' : 'allowed',
        outcome,
        ...(errorCode ? { errorCode } : {}),
        ...(upstreamStatus === undefined ? {} : { upstreamStatus }),
        upstreamCalls,
        durationMs: Math.round(performance.now() - started),
      });
    } catch (error) {
      runtime.log.error({ err: error }, 'audit write failed');
    }
  }
}

/** Records protocol-level events the SDK answers itself (unknown tools, parse errors). */
export function auditProtocolEvent(
  runtime: Runtime,
  principal: Principal,
  name: string,
  args: unknown,
  errorCode: string,
): void {
  const requestId: string = randomUUID();
  try {
    runtime.audit.write({
      principal: principalRef(principal),
      event: 'call',
      kind: 'protocol',
      name,
      callId: requestId,
      requestId,
      args: redactArgs(args ?? {}),
      argsDigest: runtime.audit.digest(args ?? {}),
      decision: errorCode === 'UNKNOWN_TOOL' ? 'unknown' : 'invalid',
      outcome: 'error',
      errorCode,
      durationMs: 0,
    });
  } catch (error) {
    runtime.log.error({ err: error }, 'audit write failed');
  }
}

function completer(
  runtime: Runtime,
  principal: Principal,
  fn: ((prefix: string, ctx: ReadContext<unknown>) => Promise<string[]>) | undefined,
) {
  if (!fn) return undefined;
  return async (value: unknown) => {
    try {
      const values = await fn(
        String(value ?? '').slice(0, 256),
        readContext(runtime, principal, AbortSignal.timeout(runtime.config.deadlineMs)),
      );
      return values.slice(0, 100);
    } catch (error) {
      runtime.log.warn({ err: error }, 'completion failed');
      return [];
    }
  };
}

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

/** The names a principal can call; anything else is answered as an unknown tool. */
export function visibleToolNames(runtime: Runtime, principal: Principal): Set<string> {
  const names = new Set<string>();
  for (const [name, { tool }] of runtime.tools)
    if (toolVisibility(tool, principal, runtime.policy).visible) names.add(name);
  return names;
}

/**
 * Builds one McpServer for one principal (one connection, or one HTTP
 * request). Only what the principal may use is registered, so hidden tools
 * are indistinguishable from tools that do not exist.
 */
export interface BuildOptions {
  /**
   * HTTP with authentication: a call to a tool the principal lacks a scope for
   * is answered 403 insufficient_scope naming the scope (OAuth step-up)
   * instead of the unknown-tool answer. The tool stays unlisted; tools hidden
   * by policy (read-only, allow/deny lists) still do not exist.
   */
  scopeChallenges?: boolean;
  /** Observes each scope challenge (for the audit trail). */
  onScopeChallenge?: (tool: string, scopes: string[], args: unknown) => void;
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
      // A backstop only: the seam's own, lower limit answers with a typed, audited error first.
      maxToolInputElements: MAX_ARGUMENT_ELEMENTS * 10,
    },
  );
  const visible = visibleToolNames(runtime, principal);
  for (const name of visible) {
    const prepared = runtime.tools.get(name)!;
    const { tool } = prepared;
    mcp.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: prepared.inputSchema,
        outputSchema: prepared.outputSchema,
        annotations: annotationsFor(tool),
      },
      // biome-ignore lint/suspicious/noExplicitAny: the advertised schema validates nothing, so args arrive raw.
      ((args: unknown, ctx: ServerContext) => runTool(runtime, prepared, args, ctx, mcp, principal)) as any,
    );
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
  if (options.scopeChallenges) installScopeChallenges(runtime, principal, mcp, options.onScopeChallenge);
  forwardChanges(runtime, mcp);
  return mcp;
}

/** Longest resource URI the seam reads; longer ones are refused, typed and audited. */
const MAX_URI_LENGTH = 2048;

/**
 * The SDK matches a URI against each template's regular expression before any
 * callback runs, and some template shapes backtrack on long input. Past the cap,
 * a URI under this template's literal prefix matches without the expression, so
 * the read callback refuses it as too long.
 */
class CappedUriTemplate extends UriTemplate {
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
function installScopeChallenges(
  runtime: Runtime,
  principal: Principal,
  mcp: McpServer,
  observe: BuildOptions['onScopeChallenge'],
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
