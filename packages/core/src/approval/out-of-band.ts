/**
 * Out-of-band approval (HTTP): a call that needs a human the client cannot
 * ask in-band, or that a four-eyes rule gives to someone else, is answered at
 * once with a pending result naming the approval and the page where it is
 * decided. The identical call (principal, tool, arguments) finds the same
 * approval in the shared store; once approved it runs exactly once (the store's
 * claim), after a decline or expiry it is refused.
 */

import { randomUUID } from 'node:crypto';
import { inputRequired } from '@modelcontextprotocol/server';
import type { ApprovalFacts } from '../audit/record.ts';
import type { Principal } from '../call/policy.ts';
import { keyedDigest } from '../define/canonical.ts';
import type { AnyTool } from '../define/define.ts';
import { GatehouseError } from '../define/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { PageKeys } from './link.ts';
import { type ApprovalSettings, type FourEyesRule, ruleFor } from './settings.ts';
import type { ApprovalRow, ApprovalStore } from './store.ts';
import { announce } from './webhook.ts';

export type OutOfBandOutcome =
  | { kind: 'approved'; approvalId: string; facts: ApprovalFacts }
  | { kind: 'pending'; approvalId: string; facts: ApprovalFacts; result: ReturnType<typeof inputRequired> };

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** What the audit keeps of an approval: requester, approvers, both times, the decision. */
export function factsOf(row: ApprovalRow): ApprovalFacts {
  const approvers = row.votes.filter((v) => v.decision === 'approve').map((v) => v.approver);
  const decliners = row.votes.filter((v) => v.decision === 'decline').map((v) => v.approver);
  return {
    id: row.id,
    mode: 'out-of-band',
    requester: row.requester,
    requestedAt: iso(row.createdAt)!,
    status: row.status,
    ...(approvers.length ? { approvers } : {}),
    ...(decliners.length ? { decliners } : {}),
    ...(row.decidedAt ? { decidedAt: iso(row.decidedAt) } : {}),
    ...(row.fourEyes ? { fourEyes: true } : {}),
  };
}

/** The tool's sensitive argument values never reach the store. */
function conceal(args: Record<string, unknown>, sensitive: readonly string[] | undefined) {
  if (!sensitive?.length) return args;
  return Object.fromEntries(
    Object.entries(args).map(([k, v]) => [k, sensitive.includes(k) ? '[hidden]' : v]),
  );
}

export class OutOfBand {
  readonly store: ApprovalStore;
  readonly settings: ApprovalSettings;
  readonly keys: PageKeys;
  private readonly options: { server: string; base: URL; bindingKey: string; log: Logger };

  constructor(
    store: ApprovalStore,
    settings: ApprovalSettings,
    keys: PageKeys,
    options: OutOfBand['options'],
  ) {
    this.store = store;
    this.settings = settings;
    this.keys = keys;
    this.options = options;
  }

  get server(): string {
    return this.options.server;
  }

  /** Where approvers act: the page of approval `id`, signed until it expires. */
  link(row: Pick<ApprovalRow, 'id' | 'expiresAt'>): string {
    return new URL(`/approvals/${row.id}?${this.keys.linkQuery(row.id, row.expiresAt)}`, this.base).href;
  }

  /** The origin every page URL is built on: the public URL's. */
  get base(): URL {
    return new URL(this.options.base.origin);
  }

  rule(tool: AnyTool, args: Record<string, unknown>): FourEyesRule | undefined {
    return ruleFor(this.settings.fourEyes, tool.name, args, tool.target?.(args)?.environment);
  }

  announce(event: 'approval.pending' | 'approval.decided', row: ApprovalRow): void {
    announce(this.settings.webhook, this.options.log, event, row, this.link(row));
  }

  async check(input: {
    tool: AnyTool;
    args: Record<string, unknown>;
    argsDigest: string;
    principal: Principal;
    /** The client takes URL-mode elicitation on this request (2026-07-28 input-required). */
    urlElicitation: boolean;
  }): Promise<OutOfBandOutcome> {
    const { tool, args, principal } = input;
    const requester = `${principal.kind}:${principal.id}`;
    const now = Date.now();
    const rule = this.rule(tool, args);
    const target = tool.target?.(args);
    const fresh = {
      id: randomUUID(),
      binding: keyedDigest(this.options.bindingKey, {
        purpose: 'out-of-band-binding',
        principal: requester,
        tool: tool.name,
        args: input.argsDigest,
      }),
      server: this.options.server,
      tool: tool.name,
      title: tool.title,
      effect: tool.effect,
      requester,
      args: conceal(args, tool.sensitive),
      ...(target?.target ? { target: target.target } : {}),
      ...(target?.environment ? { environment: target.environment } : {}),
      required: rule?.approvals ?? 1,
      fourEyes: rule !== undefined,
      createdAt: now,
      expiresAt: now + this.settings.pendingSeconds * 1000,
    };
    const row = await this.store.open(fresh, now);
    const facts = factsOf(row);
    const details = { approvalId: row.id, callId: row.id, approval: facts };
    if (row.id === fresh.id) this.announce('approval.pending', row);
    switch (row.status) {
      case 'pending': {
        const url = this.link(row);
        const waiting = `${rule ? `This action needs ${row.required} approver${row.required > 1 ? 's' : ''} other than you` : 'This action needs a human approval'}, given at ${url} (until ${iso(row.expiresAt)}). Nothing was done yet. Call "${tool.name}" again with exactly the same arguments to learn the decision; it then runs once.`;
        if (input.urlElicitation)
          return {
            kind: 'pending',
            approvalId: row.id,
            facts,
            result: inputRequired({
              inputRequests: { approval: inputRequired.elicitUrl({ message: waiting, url }) },
            }),
          };
        throw new GatehouseError('APPROVAL_PENDING', waiting, {
          retryAfterSeconds: 10,
          details: { ...details, url, expiresAt: iso(row.expiresAt) },
        });
      }
      case 'approved':
        if (await this.store.claim(row.id, Date.now()))
          return { kind: 'approved', approvalId: row.id, facts: { ...facts, status: 'spent' } };
        throw new GatehouseError(
          'DENIED',
          'This approval has already been used. Each approval runs its action once; call again to request a new one.',
          { details },
        );
      case 'declined':
        throw new GatehouseError(
          'APPROVAL_DECLINED',
          `The approver declined this action${row.reason ? ` (${JSON.stringify(row.reason)})` : ''}, so nothing was done. Do not retry unless a person asks.`,
          { details },
        );
      default:
        throw new GatehouseError(
          'APPROVAL_EXPIRED',
          'Nobody decided on this action in time, so nothing was done. Call again to request a new approval.',
          { details },
        );
    }
  }
}
