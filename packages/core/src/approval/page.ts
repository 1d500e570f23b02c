/**
 * The approval page's routes, served by the server itself under /approvals/:
 * the signed link (GET) shows the approval to a signed-in approver holding
 * `<server>:approve`; the form (POST, same origin, CSRF token) records one
 * vote in the shared store. Every refusal and every decision is audited.
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CallRecord } from '../audit/record.ts';
import type { Principal } from '../call/policy.ts';
import type { Runtime } from '../call/runtime.ts';
import { recordOutcome } from '../call/tool-call.ts';
import { readBody } from '../http/wire.ts';
import { equal } from './link.ts';
import { factsOf, type OutOfBand } from './out-of-band.ts';
import { approvalPage, notice, PAGE_HEADERS, STYLESHEET } from './render.ts';
import type { ApproverSession, ApproverSignIn } from './signin.ts';
import type { ApprovalRow } from './store.ts';

const ID = /^\/approvals\/([0-9a-f-]{36})$/;

type Refusal =
  | 'APPROVAL_LINK_INVALID'
  | 'APPROVAL_LINK_EXPIRED'
  | 'APPROVAL_NOT_SIGNED_IN'
  | 'APPROVAL_SCOPE_MISSING'
  | 'APPROVAL_SELF'
  | 'APPROVAL_CROSS_SITE'
  | 'APPROVAL_NOT_PENDING'
  | 'APPROVAL_ALREADY_VOTED'
  | 'APPROVAL_SIGN_IN_FAILED';

export class ApprovalPage {
  private readonly runtime: Runtime;
  private readonly outOfBand: OutOfBand;
  private readonly signIn: ApproverSignIn;
  constructor(runtime: Runtime, outOfBand: OutOfBand, signIn: ApproverSignIn) {
    this.runtime = runtime;
    this.outOfBand = outOfBand;
    this.signIn = signIn;
  }

  private get approveScope(): string {
    return `${this.outOfBand.server}:approve`;
  }

  private audit(
    who: Pick<Principal, 'id' | 'kind'> | { id: string; kind: string },
    args: Record<string, unknown>,
    outcome: {
      decision: 'approved' | 'declined' | 'denied' | 'allowed';
      errorCode?: Refusal;
      row?: ApprovalRow;
    },
  ): void {
    const record = new CallRecord({
      principal: who,
      kind: 'protocol',
      name: 'approval',
      args,
      requestId: randomUUID(),
      // The approval's id, even when the link naming it was refused: its records read together.
      callId: outcome.row?.id ?? (typeof args.approvalId === 'string' ? args.approvalId : undefined),
      decision: outcome.decision,
      outcome: outcome.errorCode ? 'error' : 'ok',
      ...(outcome.errorCode ? { errorCode: outcome.errorCode } : {}),
    });
    if (outcome.row) record.approval = factsOf(outcome.row);
    recordOutcome(this.runtime, record);
  }

  private refuse(
    status: number,
    code: Refusal,
    message: string,
    who: { id: string; kind: string } | undefined,
    args: Record<string, unknown>,
    row?: ApprovalRow,
  ): Response {
    this.audit(who ?? { id: 'anonymous', kind: 'http' }, args, { decision: 'denied', errorCode: code, row });
    return notice(status, 'Not possible', message);
  }

  async handle(req: IncomingMessage, url: URL): Promise<Response> {
    const path = url.pathname;
    if (path === '/approvals/style.css')
      return new Response(STYLESHEET, {
        headers: {
          ...PAGE_HEADERS,
          'content-type': 'text/css; charset=utf-8',
          'cache-control': 'public, max-age=300',
        },
      });
    if (path === '/approvals/callback' && req.method === 'GET') return this.callback(req, url);
    const id = ID.exec(path)?.[1];
    if (!id) return notice(404, 'Not found', 'There is no such page.');
    if (req.method === 'GET' || req.method === 'HEAD') return this.show(req, url, id);
    if (req.method === 'POST') return this.decide(req, url, id);
    return new Response(null, { status: 405, headers: { ...PAGE_HEADERS, allow: 'GET, POST' } });
  }

  private async callback(req: IncomingMessage, url: URL): Promise<Response> {
    const done = await this.signIn.complete(url, req.headers.cookie);
    if (done.ok) return done.response;
    return this.refuse(403, 'APPROVAL_SIGN_IN_FAILED', `Sign-in failed: ${done.reason}.`, undefined, {});
  }

  /** The link's signature and lifetime, the approval itself, the approver and their scope. */
  private async admit(
    req: IncomingMessage,
    url: URL,
    id: string,
  ): Promise<{ ok: true; row: ApprovalRow; session: ApproverSession } | { ok: false; response: Response }> {
    const link = this.outOfBand.keys.checkLink(id, url.searchParams.get('exp'), url.searchParams.get('sig'));
    const session = this.signIn.session(req.headers.cookie);
    const who = session ? { id: session.id, kind: session.kind } : undefined;
    if (link !== 'ok')
      return {
        ok: false,
        response:
          link === 'expired'
            ? this.refuse(403, 'APPROVAL_LINK_EXPIRED', 'This approval link has expired.', who, {
                approvalId: id,
              })
            : this.refuse(403, 'APPROVAL_LINK_INVALID', 'This approval link is not valid.', who, {
                approvalId: id,
              }),
      };
    const row = await this.outOfBand.store.get(id);
    if (!row)
      return {
        ok: false,
        response: this.refuse(404, 'APPROVAL_LINK_INVALID', 'There is no such approval.', who, {
          approvalId: id,
        }),
      };
    if (!session) {
      if (req.method !== 'GET')
        return {
          ok: false,
          response: this.refuse(
            403,
            'APPROVAL_NOT_SIGNED_IN',
            'Sign in first, from the approval link.',
            undefined,
            { approvalId: id },
            row,
          ),
        };
      // An unreachable issuer is a page saying so, not a server error.
      const begun = await this.signIn.begin(`${url.pathname}${url.search}`).catch((error: unknown) => {
        this.runtime.log.warn({ err: (error as Error).message }, 'approval sign-in: issuer unavailable');
        return notice(
          503,
          'Sign-in unavailable',
          'The sign-in service cannot be reached; try the link again shortly.',
        );
      });
      return { ok: false, response: begun };
    }
    if (!session.scopes.includes(this.approveScope))
      return {
        ok: false,
        response: this.refuse(
          403,
          'APPROVAL_SCOPE_MISSING',
          `Approving needs the scope ${this.approveScope}, which your sign-in does not hold.`,
          who,
          { approvalId: id },
          row,
        ),
      };
    if (row.fourEyes && this.ownRequest(row, session))
      return {
        ok: false,
        response: this.refuse(
          403,
          'APPROVAL_SELF',
          'You asked for this action; another person must approve it.',
          who,
          { approvalId: id },
          row,
        ),
      };
    return { ok: true, row, session };
  }

  private ownRequest(row: ApprovalRow, session: ApproverSession): boolean {
    // By id whatever the kind: an API key named like a person is that person here.
    return row.requester.slice(row.requester.indexOf(':') + 1) === session.id;
  }

  private async show(req: IncomingMessage, url: URL, id: string): Promise<Response> {
    const admitted = await this.admit(req, url, id);
    if (!admitted.ok) return admitted.response;
    const { row, session } = admitted;
    const canVote =
      row.status !== 'pending' || row.expiresAt <= Date.now()
        ? `This approval is ${row.expiresAt <= Date.now() && row.status === 'pending' ? 'expired' : row.status}; nothing more can be decided here.`
        : row.votes.some((v) => v.approver === `${session.kind}:${session.id}`)
          ? 'You have already decided on this approval.'
          : undefined;
    return approvalPage(row, {
      approver: `${session.kind}:${session.id}`,
      seesPersonalData: session.scopes.includes(`${this.outOfBand.server}:pii`),
      csrf: session.csrf,
      action: `${url.pathname}${url.search}`,
      canVote,
    });
  }

  private sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin !== undefined) return origin === this.outOfBand.base.origin;
    const site = req.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin';
  }

  private async decide(req: IncomingMessage, url: URL, id: string): Promise<Response> {
    const signedIn = this.signIn.session(req.headers.cookie);
    if (!this.sameOrigin(req))
      return this.refuse(
        403,
        'APPROVAL_CROSS_SITE',
        'This form can only be sent from its own page.',
        signedIn,
        {
          approvalId: id,
          origin: String(req.headers.origin ?? '').slice(0, 200),
        },
      );
    const admitted = await this.admit(req, url, id);
    if (!admitted.ok) return admitted.response;
    const { row } = admitted;
    let form: URLSearchParams;
    try {
      form = new URLSearchParams((await readBody(req, 16 * 1024)).toString('utf8'));
    } catch {
      return notice(413, 'Not possible', 'The form is too large.');
    }
    const session = admitted.session;
    const who = { id: session.id, kind: session.kind };
    const args = { approvalId: id };
    if (!equal(form.get('csrf') ?? '', session.csrf))
      return this.refuse(
        403,
        'APPROVAL_CROSS_SITE',
        'This form is stale or was not sent from its page; open the link again.',
        who,
        args,
        row,
      );
    const decision = form.get('decision');
    const reason = (form.get('reason') ?? '').trim().slice(0, 500);
    if ((decision !== 'approve' && decision !== 'decline') || reason.length === 0)
      return notice(400, 'Not possible', 'Choose approve or decline and give a reason.');
    const result = await this.outOfBand.store.vote(
      id,
      { approver: `${session.kind}:${session.id}`, decision, reason, at: Date.now() },
      this.outOfBand.settings.pendingSeconds * 1000,
    );
    if (!result.ok)
      return result.reason === 'already-voted'
        ? this.refuse(
            409,
            'APPROVAL_ALREADY_VOTED',
            'You have already decided on this approval.',
            who,
            args,
            row,
          )
        : this.refuse(
            409,
            result.reason === 'expired' ? 'APPROVAL_LINK_EXPIRED' : 'APPROVAL_NOT_PENDING',
            'This approval is no longer waiting for a decision.',
            who,
            args,
            result.row ?? row,
          );
    const decided = result.row;
    this.audit(
      who,
      { approvalId: id, reason },
      { decision: decision === 'approve' ? 'approved' : 'declined', row: decided },
    );
    if (decided.status !== 'pending') this.outOfBand.announce('approval.decided', decided);
    const message =
      decided.status === 'approved'
        ? 'Approved. The action runs once, when its requester calls again.'
        : decided.status === 'declined'
          ? 'Declined. Nothing will be done.'
          : `Your approval is recorded; ${decided.required - decided.votes.length} more needed.`;
    return notice(200, decided.status === 'declined' ? 'Declined' : 'Recorded', message);
  }
}
