import { randomUUID } from 'node:crypto';
import {
  CLIENT_CAPABILITIES_META_KEY,
  type InputRequiredResult,
  inputRequired,
  inputResponse,
  type McpServer,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { OutOfBand } from '../approval/out-of-band.ts';
import type { ApprovalFacts } from '../audit/record.ts';
import { keyedDigest } from '../define/canonical.ts';
import type { AnyTool } from '../define/define.ts';
import { GatehouseError } from '../define/errors.ts';
import { stripHidden } from '../define/text.ts';
import type { Principal } from './policy.ts';

/** What is sealed into request state (elicitation rounds) or a two-step token. */
export const ApprovalState = z.object({
  kind: z.enum(['approval', 'two-step']),
  approvalId: z.string(),
  callId: z.string(),
  tool: z.string(),
  argsDigest: z.string(),
  principal: z.string(),
});
export type ApprovalState = z.infer<typeof ApprovalState>;

export type ApprovalMode = 'elicit' | 'two-step';

export type ApprovalOutcome =
  | { kind: 'approved'; approvalId: string; callId: string; facts?: ApprovalFacts }
  | {
      kind: 'pending';
      result: InputRequiredResult;
      approvalId: string;
      callId: string;
      facts?: ApprovalFacts;
    };

/**
 * Whom an approval is bound to: kind and id together, so an API key and an
 * OAuth subject that happen to share a name cannot redeem each other's approvals.
 */
const principalKey = (principal: Principal): string => `${principal.kind}:${principal.id}`;

/** The form the human answers: one explicit yes, default no. */
const ApprovalForm = z.object({
  approve: z.boolean().default(false).describe('Approve this exact action'),
});

/** Remembers approvals already spent on this replica, bounded in size and time. */
class SpentApprovals {
  private readonly spent = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly max: number;
  constructor(ttlMs: number, max = 10_000) {
    this.ttlMs = ttlMs;
    this.max = max;
  }
  has(id: string): boolean {
    const until = this.spent.get(id);
    return until !== undefined && until > Date.now();
  }
  add(id: string): void {
    const now = Date.now();
    if (this.spent.size >= this.max) {
      for (const [key, until] of this.spent)
        if (until <= now || this.spent.size >= this.max) this.spent.delete(key);
    }
    this.spent.set(id, now + this.ttlMs);
  }
}

function renderValue(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(stripHidden(value)) : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * What the human reads. Rendered by the server from validated arguments only:
 * never text the model wrote as a free-form explanation of itself.
 */
export function renderApprovalMessage(
  server: string,
  tool: AnyTool,
  args: Record<string, unknown>,
  principal: Principal,
): string {
  const target = tool.target?.(args);
  const lines = [
    `${server}: approve ${tool.effect === 'destructive' ? 'DESTRUCTIVE' : 'side-effecting'} action "${tool.name}" (${tool.title})?`,
  ];
  if (target)
    lines.push(
      `Target: ${stripHidden(target.target)}${target.environment ? ` · Environment: ${stripHidden(target.environment)}` : ''}`,
    );
  lines.push('Arguments:');
  for (const [key, value] of Object.entries(args)) lines.push(`  ${key} = ${renderValue(value)}`);
  lines.push(`Requested by: ${principal.id}`, 'It runs once, with exactly these arguments.');
  return lines.join('\n');
}

type Capabilities = { elicitation?: { form?: unknown; url?: unknown } } | undefined;
const envelopeCapabilities = (ctx: ServerContext): Capabilities =>
  (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[
    CLIENT_CAPABILITIES_META_KEY
  ] as Capabilities;

/** URL-mode elicitation rides the 2026-07-28 input-required round, declared on the request itself. */
const clientTakesUrl = (ctx: ServerContext): boolean =>
  envelopeCapabilities(ctx)?.elicitation?.url !== undefined;

function clientSupportsForm(ctx: ServerContext, mcp: McpServer): boolean {
  const fromEnvelope = envelopeCapabilities(ctx);
  const caps =
    fromEnvelope ??
    (mcp.server.getClientCapabilities() as { elicitation?: { form?: unknown; url?: unknown } } | undefined);
  const elicitation = caps?.elicitation;
  if (!elicitation) return false;
  // A bare `elicitation: {}` means form support (the pre-mode rule).
  return elicitation.form !== undefined || elicitation.url === undefined;
}

/**
 * Human approval for side effects through the protocol's own channel: an
 * input-required round (2026-07-28) or its elicitation shim (2025 clients on
 * stdio and sessions), with the state sealed so any replica can finish it; or,
 * where the operator opted in, a two-step token bound to tool, arguments and
 * principal. Each approval is spent once and becomes the upstream idempotency key.
 */
export class ApprovalGate {
  private readonly spent: SpentApprovals;
  private readonly options: {
    server: string;
    mode: ApprovalMode;
    codec: RequestStateCodec<unknown>;
    ttlSeconds: number;
    /** Binds an approval to its arguments; the same on every replica (the state key). */
    bindingKey: string;
  };

  constructor(options: ApprovalGate['options']) {
    this.options = options;
    this.spent = new SpentApprovals(options.ttlSeconds * 1000 * 2);
  }

  private outOfBand: OutOfBand | undefined;

  get mode(): ApprovalMode {
    return this.options.mode;
  }

  /** The HTTP transport's out-of-band approvals (the page and the shared store); stdio has none. */
  useOutOfBand(outOfBand: OutOfBand): void {
    this.outOfBand = outOfBand;
  }

  private async viaOutOfBand(
    outOfBand: OutOfBand,
    input: { tool: AnyTool; args: Record<string, unknown>; principal: Principal; ctx: ServerContext },
    argsDigest: string,
  ): Promise<ApprovalOutcome> {
    const outcome = await outOfBand.check({
      ...input,
      argsDigest,
      urlElicitation: clientTakesUrl(input.ctx),
    });
    return outcome.kind === 'approved'
      ? { kind: 'approved', approvalId: outcome.approvalId, callId: outcome.approvalId, facts: outcome.facts }
      : { ...outcome, callId: outcome.approvalId };
  }

  async check(input: {
    tool: AnyTool;
    args: Record<string, unknown>;
    principal: Principal;
    ctx: ServerContext;
    mcp: McpServer;
    twoStepToken: string | undefined;
  }): Promise<ApprovalOutcome> {
    const { tool, principal, ctx } = input;
    const argsDigest = keyedDigest(this.options.bindingKey, {
      purpose: 'approval-binding',
      tool: tool.name,
      args: input.args,
    });
    const matches = (state: ApprovalState) =>
      state.tool === tool.name &&
      state.argsDigest === argsDigest &&
      state.principal === principalKey(principal);

    // A four-eyes rule gives the decision to someone else: never the requester's own client or token.
    const outOfBand = this.outOfBand;
    if (outOfBand?.rule(tool, input.args)) return this.viaOutOfBand(outOfBand, input, argsDigest);

    if (this.options.mode === 'two-step') {
      if (input.twoStepToken === undefined) return this.issueTwoStepToken({ ...input, argsDigest });
      let state: ApprovalState;
      try {
        state = ApprovalState.parse(await this.options.codec.verify(input.twoStepToken, ctx));
      } catch {
        throw new GatehouseError(
          'DENIED',
          'The approval_token is invalid or expired. Call again without it to get a fresh one.',
        );
      }
      if (state.kind !== 'two-step' || !matches(state)) {
        throw new GatehouseError(
          'DENIED',
          'The approval_token was issued for a different tool, arguments or caller. Call again without it to get a fresh one.',
        );
      }
      return this.spend(state);
    }

    const raw = ctx.mcpReq.requestState<unknown>();
    const parsed = raw === undefined ? undefined : ApprovalState.safeParse(raw);
    if (parsed?.success && parsed.data.kind === 'approval') {
      const state = parsed.data;
      // Every answer to this round belongs to the same call as the request for approval.
      const sameCall = { details: { callId: state.callId } };
      if (!matches(state)) {
        throw new GatehouseError(
          'DENIED',
          'This approval was given for a different tool, arguments or caller; it cannot authorise this call.',
          sameCall,
        );
      }
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'approval');
      if (answer.kind === 'elicit' && answer.action === 'accept') {
        const form = ApprovalForm.safeParse(answer.content ?? {});
        if (form.success && form.data.approve) return this.spend(state);
      }
      if (answer.kind === 'missing')
        throw new GatehouseError(
          'APPROVAL_REQUIRED',
          'The approval round carried no answer from the user.',
          sameCall,
        );
      throw new GatehouseError(
        'APPROVAL_DECLINED',
        'The user did not approve this action, so nothing was done. Do not retry unless the user asks.',
        sameCall,
      );
    }

    if (!clientSupportsForm(ctx, input.mcp)) {
      if (outOfBand) return this.viaOutOfBand(outOfBand, input, argsDigest);
      throw new GatehouseError(
        'APPROVAL_REQUIRED',
        `"${tool.name}" needs a human's approval, and this client cannot ask for it (it offers no elicitation). Use a host that supports MCP elicitation, or ask the operator to enable two-step approval.`,
      );
    }
    const state: ApprovalState = {
      kind: 'approval',
      approvalId: randomUUID(),
      callId: randomUUID(),
      tool: tool.name,
      argsDigest,
      principal: principalKey(principal),
    };
    const requestState = await this.options.codec.mint(state, ctx);
    return {
      kind: 'pending',
      approvalId: state.approvalId,
      callId: state.callId,
      result: inputRequired({
        inputRequests: {
          approval: inputRequired.elicit({
            message: renderApprovalMessage(this.options.server, tool, input.args, principal),
            requestedSchema: ApprovalForm,
          }),
        },
        requestState,
      }),
    };
  }

  private spend(state: ApprovalState): ApprovalOutcome {
    if (this.spent.has(state.approvalId)) {
      throw new GatehouseError(
        'DENIED',
        'This approval has already been used. Each approval runs its action once; request a new one.',
        { details: { callId: state.callId } },
      );
    }
    this.spent.add(state.approvalId);
    return { kind: 'approved', approvalId: state.approvalId, callId: state.callId };
  }

  private async issueTwoStepToken(input: {
    tool: AnyTool;
    args: Record<string, unknown>;
    argsDigest: string;
    principal: Principal;
    ctx: ServerContext;
  }): Promise<never> {
    const state: ApprovalState = {
      kind: 'two-step',
      approvalId: randomUUID(),
      callId: randomUUID(),
      tool: input.tool.name,
      argsDigest: input.argsDigest,
      principal: principalKey(input.principal),
    };
    const token = await this.options.codec.mint(state, input.ctx);
    throw new GatehouseError(
      'APPROVAL_REQUIRED',
      `Planned action, not yet executed:\n${renderApprovalMessage(this.options.server, input.tool, input.args, input.principal)}\nTo execute it, call "${input.tool.name}" again with the same arguments plus approval_token (valid ${this.options.ttlSeconds} s).`,
      { details: { approvalToken: token, expiresInSeconds: this.options.ttlSeconds, callId: state.callId } },
    );
  }
}
