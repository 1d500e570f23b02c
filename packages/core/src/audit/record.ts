/**
 * The audit record: its shape, and the one place it is built. Every writer —
 * tool calls, resource reads, prompt gets, protocol rejections, HTTP refusals —
 * fills a `CallRecord` as the request passes its stages and hands it to
 * `AuditLog.record`, which builds the line here. A change of format touches
 * this module and its tests.
 */
import { z } from 'zod';
import { redactArgs } from './redact.ts';

export const AuditKind = z.enum(['tool', 'resource', 'prompt', 'protocol']);
export type AuditKind = z.infer<typeof AuditKind>;
export const AuditDecision = z.enum([
  'allowed',
  'denied',
  'invalid',
  'unknown',
  'approval_requested',
  'approved',
  'declined',
  /** Run on a two-step token the model itself redeemed: a development opt-in, not a human's consent. */
  'token_approved',
]);
export type AuditDecision = z.infer<typeof AuditDecision>;
export const AuditOutcome = z.enum(['ok', 'error', 'cancelled', 'pending']);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

/** One record per request the server answers (`event: "call"`), plus a pre-effect `intent` record for side effects. */
export const AuditRecord = z.object({
  event: z.enum(['call', 'intent']),
  server: z.string(),
  principal: z.object({ id: z.string(), kind: z.string(), clientId: z.string().optional() }),
  /** The toolsets the connection was narrowed to (sorted); absent: every toolset. */
  toolsets: z.array(z.string()).optional(),
  kind: AuditKind,
  name: z.string(),
  callId: z.string(),
  requestId: z.string(),
  args: z.unknown().optional(),
  argsDigest: z.string().optional(),
  decision: AuditDecision,
  approval: z
    .object({
      id: z.string(),
      mode: z.string(),
      /** Out-of-band approvals: who asked and when, who decided and when, and where it stands. */
      requester: z.string().optional(),
      requestedAt: z.string().optional(),
      approvers: z.array(z.string()).optional(),
      decliners: z.array(z.string()).optional(),
      decidedAt: z.string().optional(),
      status: z.string().optional(),
      fourEyes: z.boolean().optional(),
    })
    .optional(),
  outcome: AuditOutcome,
  errorCode: z.string().optional(),
  upstreamStatus: z.number().int().optional(),
  upstreamCalls: z.number().int().optional(),
  durationMs: z.number().optional(),
  /** Refusals folded into this one record (the same source, code and interval); absent means one. */
  count: z.number().int().positive().optional(),
  /** The peer address of a refusal made before authentication. */
  source: z.string().optional(),
  /** In `exchange` identity mode: as whom the upstream was called — the user, this server as actor, the token's id. */
  upstreamIdentity: z.object({ sub: z.string(), actor: z.string(), jti: z.string() }).optional(),
  /** The SHA-256 of the rules (Cedar policy) in force, when a policy file is configured. */
  policy: z.string().optional(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;
export type ApprovalFacts = NonNullable<AuditRecord['approval']>;

/** A record as a writer hands it to the log, which adds the server name, sequence and chain. */
export type AuditEntry = Omit<AuditRecord, 'server'>;

export interface CallRecordInit {
  principal: {
    readonly id: string;
    readonly kind: string;
    readonly clientId?: string;
    readonly toolsets?: ReadonlySet<string>;
  };
  kind: AuditKind;
  name: string;
  /** The arguments as received; a stage replaces them with the validated ones. */
  args: unknown;
  requestId: string;
  /** The id the call is known by (an approval's call id once approved); the request id by default. */
  callId?: string;
  /** Argument names whose values never reach the trail. */
  sensitive?: readonly string[];
  decision?: AuditDecision;
  outcome?: AuditOutcome;
  errorCode?: string;
  /** How many refusals this one record stands for (aggregated HTTP refusals). */
  count?: number;
  /** The peer address, for refusals made before anyone is authenticated. */
  source?: string;
}

/**
 * One request's journey, filled stage by stage: who asked for what, what was
 * decided, how it ended, how many upstream calls it made. Mutable on purpose:
 * the stages of the call path each set what they learn, and the writer builds
 * the record from it once, at the end (and once before a side effect).
 */
export class CallRecord {
  readonly started = performance.now();
  readonly principal: CallRecordInit['principal'];
  readonly kind: AuditKind;
  readonly name: string;
  readonly requestId: string;
  readonly sensitive: readonly string[];
  callId: string;
  args: unknown;
  /** Digest of the arguments, once computed (the validated arguments are digested once and reused). */
  argsDigest: string | undefined;
  /** What is digested when `argsDigest` is unset: the arguments as received, even when `args` keeps only a summary. */
  readonly received: unknown;
  decision: AuditDecision;
  outcome: AuditOutcome;
  errorCode: string | undefined;
  approval: ApprovalFacts | undefined;
  upstreamStatus: number | undefined;
  upstreamCalls = 0;
  /** As whom the last upstream request was made (exchange mode): ids only, never a token. */
  upstreamIdentity: { sub: string; actor: string; jti: string } | undefined;
  readonly count: number | undefined;
  readonly source: string | undefined;

  constructor(init: CallRecordInit) {
    this.principal = init.principal;
    this.kind = init.kind;
    this.name = init.name;
    this.requestId = init.requestId;
    this.callId = init.callId ?? init.requestId;
    this.sensitive = init.sensitive ?? [];
    this.args = init.args;
    this.received = init.args;
    this.argsDigest = undefined;
    this.decision = init.decision ?? 'allowed';
    this.outcome = init.outcome ?? 'ok';
    this.errorCode = init.errorCode;
    this.approval = undefined;
    this.upstreamStatus = undefined;
    this.count = init.count;
    this.source = init.source;
  }

  /** Counts one upstream response; handed to handlers as `ctx.onUpstream`. */
  readonly onUpstream = ({
    status,
    identity,
  }: {
    status: number | undefined;
    identity?: { sub: string; actor: string; jti: string };
  }): void => {
    this.upstreamCalls += 1;
    this.upstreamStatus = status;
    if (identity) this.upstreamIdentity = { sub: identity.sub, actor: identity.actor, jti: identity.jti };
  };
}

/**
 * The one builder. `intent` records (written before a side effect runs) carry
 * what was decided and nothing of the outcome; `call` records carry all of it.
 * Arguments are redacted (secrets, the tool's sensitive fields, personal data)
 * and digested with the trail's key.
 */
export function auditEntry(
  call: CallRecord,
  event: 'call' | 'intent',
  digest: (args: unknown) => string,
  context: { policy?: string | undefined } = {},
): AuditEntry {
  const entry: AuditEntry = {
    event,
    principal: {
      id: call.principal.id,
      kind: call.principal.kind,
      ...(call.principal.clientId ? { clientId: call.principal.clientId } : {}),
    },
    ...(call.principal.toolsets ? { toolsets: [...call.principal.toolsets].sort() } : {}),
    kind: call.kind,
    name: call.name,
    callId: call.callId,
    requestId: call.requestId,
    args: redactArgs(call.args ?? {}, call.sensitive),
    argsDigest: call.argsDigest ?? digest(call.received ?? {}),
    decision: call.decision,
    outcome: event === 'intent' ? 'pending' : call.outcome,
  };
  if (call.approval) entry.approval = call.approval;
  if (context.policy) entry.policy = context.policy;
  if (event === 'intent') return entry;
  if (call.errorCode) entry.errorCode = call.errorCode;
  if (call.upstreamStatus !== undefined) entry.upstreamStatus = call.upstreamStatus;
  entry.upstreamCalls = call.upstreamCalls;
  entry.durationMs = Math.round(performance.now() - call.started);
  if (call.count !== undefined) entry.count = call.count;
  if (call.source !== undefined) entry.source = call.source;
  if (call.upstreamIdentity) entry.upstreamIdentity = call.upstreamIdentity;
  return entry;
}
