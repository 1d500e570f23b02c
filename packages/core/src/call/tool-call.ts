/**
 * The call path of a tool, as named stages over one call: toolsets → admit → validate → authorize →
 * approve → record intent → run → check output, then the outcome is recorded whatever happened. Tools
 * never touch McpServer; every call (SDK or call/direct.ts) goes through here: no tool skips a stage.
 *
 * Admission comes before validation on purpose: a server shedding load should not spend CPU parsing
 * the arguments of calls it is about to refuse.
 */
import { randomUUID } from 'node:crypto';
import type { CallToolResult, McpServer } from '@modelcontextprotocol/server';
import { AuditShipError } from '../audit/log.ts';
import { type ApprovalFacts, type AuditDecision, CallRecord } from '../audit/record.ts';
import { jsonShape } from '../define/canonical.ts';
import { GatehouseError, isGatehouseError } from '../define/errors.ts';
import { describeIssues } from '../define/schema.ts';
import type { Logger } from '../telemetry/logger.ts';
import { startMcpSpan } from '../telemetry/tracing.ts';
import { CallContext, type SeamContext } from './context.ts';
import { needsApproval } from './definition.ts';
import { receivedArguments } from './inbound.ts';
import { inToolsets, missingScopes, type Principal } from './policy.ts';
import type { PreparedTool, Runtime } from './runtime.ts';

/** Largest number of array elements and object members one call's arguments may hold. */
export const MAX_ARGUMENT_ELEMENTS = 5_000;
/** Deepest nesting of arrays and objects one call's arguments may have (`{}` is 1). */
export const MAX_ARGUMENT_DEPTH = 32;

const ARTICLE: Record<string, string> = { array: 'an ', null: '' };

/** One tool call as it passes the stages: the audit part is `record`, the rest is what the stages hand on. */
interface ToolCall {
  readonly runtime: Runtime;
  readonly prepared: PreparedTool;
  readonly principal: Principal;
  readonly sdk: SeamContext;
  readonly mcp: McpServer;
  readonly record: CallRecord;
  readonly raw: unknown;
  /** The validated arguments, without the two-step token. */
  args: Record<string, unknown>;
  twoStepToken: string | undefined;
  /** Carried on every side effect so a retried upstream request cannot act twice. */
  idempotencyKey: string | undefined;
  admitted: boolean;
  result: CallToolResult | undefined;
}

interface Stage {
  readonly name:
    | 'toolsets'
    | 'admit'
    | 'validate'
    | 'authorize'
    | 'rules'
    | 'approve'
    | 'intent'
    | 'run'
    | 'check';
  /** What the record says when this stage refuses the call. */
  readonly refusal: (error: GatehouseError, call: ToolCall) => AuditDecision;
  /** Runs the stage; a returned result answers the call at once (a pending approval). */
  readonly run: (call: ToolCall) => CallToolResult | undefined | Promise<CallToolResult | undefined>;
}

const denied = () => 'denied' as const;
/** What let the call through: a two-step token the model redeemed is recorded apart from a human's approval. */
const decided = (call: ToolCall): AuditDecision =>
  call.record.approval
    ? call.record.approval.mode === 'two-step'
      ? 'token_approved'
      : 'approved'
    : 'allowed';
const afterDecision = (_: GatehouseError, call: ToolCall): AuditDecision => decided(call);

/** A tool the connection's toolsets leave out is registered unlisted so that its call ends here, typed. */
const narrow: Stage = {
  name: 'toolsets',
  refusal: denied,
  run(call) {
    const { tool } = call.prepared;
    if (inToolsets(tool, call.principal, call.runtime.policy)) return;
    throw new GatehouseError(
      'OUTSIDE_TOOLSETS',
      `${tool.name} belongs to the toolset "${tool.toolset}", which this connection is not narrowed to. Use the listed tools; to use this one, connect with that toolset (X-Gatehouse-Toolsets), if the operator offers it.`,
      { details: { toolset: tool.toolset } },
    );
  },
};

const admit: Stage = {
  name: 'admit',
  refusal: denied,
  run(call) {
    const { inFlight, config } = call.runtime;
    if (inFlight.count >= config.maxInFlight)
      throw new GatehouseError(
        'BUSY',
        `This server is already running ${config.maxInFlight} tool calls. Wait for some to finish, then call again.`,
        { retryAfterSeconds: 1 },
      );
    inFlight.count += 1;
    call.admitted = true;
  },
};

const validate: Stage = {
  name: 'validate',
  refusal: () => 'invalid',
  run(call) {
    const { tool } = call.prepared;
    const { raw } = call;
    // Counted without recursion, before anything walks them: zod, the digest, the trail.
    if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
      const type = raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw;
      call.record.args = { type };
      throw new GatehouseError(
        'INVALID_ARGUMENT',
        `The arguments of ${tool.name} must be an object of named values, not ${ARTICLE[type] ?? 'a '}${type}. Send an object.`,
      );
    }
    const shape = jsonShape(raw, { elements: MAX_ARGUMENT_ELEMENTS, depth: MAX_ARGUMENT_DEPTH });
    if (shape.elements > MAX_ARGUMENT_ELEMENTS) {
      call.record.args = { elements: shape.elements };
      throw new GatehouseError(
        'INVALID_ARGUMENT',
        `The arguments of ${tool.name} hold more than ${MAX_ARGUMENT_ELEMENTS} values. Send fewer.`,
      );
    }
    if (shape.depth > MAX_ARGUMENT_DEPTH) {
      call.record.args = { depth: shape.depth };
      throw new GatehouseError(
        'INVALID_ARGUMENT',
        `The arguments of ${tool.name} nest more than ${MAX_ARGUMENT_DEPTH} levels deep. Send flatter values.`,
      );
    }
    const parsed = call.prepared.input.safeParse(raw ?? {});
    if (!parsed.success)
      throw new GatehouseError(
        'INVALID_ARGUMENT',
        `Invalid arguments for ${tool.name}: ${describeIssues(parsed.error)}. Fix them and call again.`,
      );
    const { approval_token: token, ...args } = parsed.data as Record<string, unknown>;
    call.args = args;
    call.twoStepToken = token as string | undefined;
    call.record.args = args;
    call.record.argsDigest = call.runtime.audit.digest(args);
  },
};

const authorize: Stage = {
  name: 'authorize',
  refusal: denied,
  run(call) {
    const { tool } = call.prepared;
    const missing = missingScopes(call.principal, [tool.scope, ...(tool.extraScopes?.(call.args) ?? [])]);
    if (missing.length > 0)
      throw new GatehouseError(
        'DENIED',
        `${tool.name} with these arguments requires the scope ${missing.join(', ')}, which this caller does not hold. Ask the operator to grant it; do not retry.`,
        { details: { requiredScopes: missing } },
      );
    // The approval id when a human approved it (below), this call's id otherwise.
    call.idempotencyKey = tool.effect === 'read' ? undefined : call.record.callId;
  },
};

/** Rules as code (Cedar), when configured: after scopes, before a human is asked. */
const rules: Stage = { name: 'rules', refusal: denied, run: (call) => call.runtime.rules?.check(call) };

const approve: Stage = {
  name: 'approve',
  refusal: (error) =>
    error.code === 'APPROVAL_DECLINED'
      ? 'declined'
      : error.code === 'APPROVAL_REQUIRED' || error.code === 'APPROVAL_PENDING'
        ? 'approval_requested'
        : 'denied',
  async run(call) {
    const { tool } = call.prepared;
    if (!needsApproval(tool)) return;
    const ctx = call.sdk;
    if ('direct' in ctx) throw new Error('never reached: call/direct.ts leaves approvals to the SDK');
    const result = await call.runtime.approval
      .check({
        tool,
        args: call.args,
        principal: call.principal,
        ctx,
        mcp: call.mcp,
        twoStepToken: call.twoStepToken,
      })
      .catch((error: unknown) => {
        // An out-of-band refusal still names its approval: requester, approvers, times, status.
        const facts = isGatehouseError(error) ? error.details?.approval : undefined;
        if (facts) call.record.approval = facts as ApprovalFacts;
        throw error;
      });
    call.record.callId = result.callId;
    call.record.approval = result.facts ?? { id: result.approvalId, mode: call.runtime.approval.mode };
    if (result.kind === 'pending') {
      call.record.decision = 'approval_requested';
      call.record.outcome = 'pending';
      return result.result as unknown as CallToolResult;
    }
    call.idempotencyKey = result.approvalId;
  },
};

const recordIntent: Stage = {
  name: 'intent',
  refusal: afterDecision,
  run(call) {
    call.record.decision = decided(call);
    if (call.prepared.tool.effect === 'read') return;
    // The side effect may only run once its intent is on record.
    try {
      call.runtime.audit.record(call.record, 'intent', { durable: true });
    } catch (error) {
      call.runtime.log.error({ err: error }, 'audit write failed before a side effect');
      throw new GatehouseError(
        'AUDIT_UNAVAILABLE',
        error instanceof AuditShipError
          ? 'The audit trail cannot be spooled for shipping, so this action was not run; reads still work. The operator must bring the syslog receiver back or free the spool.'
          : 'The audit log cannot be written, so this action was not run. The operator must fix the audit destination.',
      );
    }
  },
};

function progressOf(sdk: SeamContext): CallContext['progress'] {
  const token = sdk.mcpReq._meta?.progressToken;
  return async (progress, total, message) => {
    if (token === undefined) return;
    await sdk.mcpReq
      .notify({
        method: 'notifications/progress',
        params: {
          progressToken: token,
          progress,
          ...(total === undefined ? {} : { total }),
          ...(message ? { message } : {}),
        },
      })
      .catch(() => undefined);
  };
}

const run = (span: ReturnType<typeof startMcpSpan>): Stage => ({
  name: 'run',
  refusal: afterDecision,
  async run(call) {
    const { tool } = call.prepared;
    const { record, sdk, runtime } = call;
    const ctx = new CallContext(
      runtime.log,
      { tool: tool.name, requestId: record.requestId },
      {
        deps: runtime.deps,
        principal: call.principal,
        callId: record.callId,
        signal: sdk.mcpReq.signal,
        requestId: record.requestId,
        idempotencyKey: call.idempotencyKey,
        onUpstream: record.onUpstream,
        progress: progressOf(sdk),
      },
    );
    const output = await span.run(() => tool.handler(call.args, ctx));
    if (sdk.mcpReq.signal.aborted)
      throw new GatehouseError('CANCELLED', 'The request was cancelled by the client.');
    call.result = { content: [], structuredContent: output as Record<string, unknown> };
  },
});

const checkOutput: Stage = {
  name: 'check',
  refusal: afterDecision,
  run(call) {
    const { tool } = call.prepared;
    const checked = tool.output.safeParse(call.result?.structuredContent);
    if (!checked.success) {
      call.runtime.log.error(
        { tool: tool.name, issues: checked.error.issues.slice(0, 5) },
        'tool output failed its own schema',
      );
      throw new GatehouseError(
        'INTERNAL',
        `${tool.name} produced a result that does not match its declared output schema. This is a server bug; it has been logged.`,
      );
    }
    const structured = checked.data as Record<string, unknown>;
    call.result = {
      content: [{ type: 'text', text: tool.text ? tool.text(structured) : JSON.stringify(structured) }],
      structuredContent: structured,
    };
  },
};

/** The single registration seam every tool call goes through. */
export async function runTool(
  runtime: Runtime,
  prepared: PreparedTool,
  raw: unknown,
  sdk: SeamContext,
  mcp: McpServer,
  principal: Principal,
): Promise<CallToolResult> {
  const { tool } = prepared;
  const requestId = randomUUID();
  // Arguments that are not an object arrive carried in one (inbound.ts); validate refuses them.
  const received = receivedArguments(raw);
  const record = new CallRecord({
    principal,
    kind: 'tool',
    name: tool.name,
    args: received,
    requestId,
    callId: randomUUID(),
    sensitive: tool.sensitive,
  });
  const call: ToolCall = {
    runtime,
    prepared,
    principal,
    sdk,
    mcp,
    record,
    raw: received,
    args: {},
    twoStepToken: undefined,
    idempotencyKey: undefined,
    admitted: false,
    result: undefined,
  };
  const span = startMcpSpan('tools/call', tool.name, sdk.mcpReq, requestId);
  const stages = [narrow, admit, validate, authorize, rules, approve, recordIntent, run(span), checkOutput];
  let stage: Stage = narrow;
  try {
    for (stage of stages) {
      const answered = await stage.run(call);
      if (answered) return answered;
    }
    return call.result!;
  } catch (caught) {
    const error = toGatehouseError(caught, sdk.mcpReq.signal, runtime.log);
    record.decision = stage.refusal(error, call);
    record.errorCode = error.code;
    record.outcome =
      error.code === 'CANCELLED'
        ? 'cancelled'
        : record.decision === 'approval_requested' &&
            (error.details?.approvalToken || error.code === 'APPROVAL_PENDING')
          ? 'pending'
          : 'error';
    if (typeof error.details?.callId === 'string') record.callId = error.details.callId;
    return toolError(error);
  } finally {
    if (call.admitted) runtime.inFlight.count -= 1;
    span.end({
      outcome: record.outcome,
      decision: record.decision,
      errorCode: record.errorCode,
      upstreamCalls: record.upstreamCalls,
    });
    recordOutcome(runtime, record);
  }
}

/** Writes the outcome record of any request; a failed write is logged, never thrown at the caller. */
export function recordOutcome(runtime: Runtime, record: CallRecord): void {
  try {
    runtime.audit.record(record);
  } catch (error) {
    runtime.log.error({ err: error, name: record.name }, 'audit write failed');
  }
}

export function toGatehouseError(error: unknown, signal: AbortSignal, log: Logger): GatehouseError {
  if (isGatehouseError(error)) return error;
  if (signal.aborted) return new GatehouseError('CANCELLED', 'The request was cancelled by the client.');
  log.error({ err: error }, 'unexpected error in handler');
  return new GatehouseError(
    'INTERNAL',
    'The server hit an unexpected error. It has been logged; try again, and report it if it persists.',
  );
}

/** Every failure a tool can have, as the model sees it: a stable code first, then what to do. */
function toolError(error: GatehouseError): CallToolResult {
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
