/** issue_service_credit: approved once, capped before any prompt, paid at most once, never on a ticket's say-so. */
import { connectV1, connectV2, errorOf, readAudit, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import {
  ALL_SCOPES,
  APPROVAL_CLIENTS,
  creditArguments,
  creditsOf,
  creditsWith,
  expectRecords,
  fullTickets,
  injectedTicketIn,
  ok,
  spareTickets,
  textOf,
  uniqueReason,
  useHarness,
  withSupport,
  writes,
} from '../../test/harness.ts';
import support from '../index.ts';

const fx = useHarness(async (h) => ({
  takeTicket: await spareTickets(h),
  injected: injectedTicketIn(await fullTickets(h)),
}));

describe.each(APPROVAL_CLIENTS)('human approval (%s)', (_label, connect) => {
  it('issues a credit once when the human accepts', async () => {
    const { h } = fx;
    const ticket = await fx.takeTicket();
    const session = { scopes: ALL_SCOPES, approval: 'accept' } as const;
    await withSupport(h, connect, session, async ({ client, env, shown }) => {
      const reason = uniqueReason('SLA breach compensation');
      const result = await client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 2_500, reason, ticket_id: ticket.id },
      });
      expect(ok(result)).toMatchObject({
        customerId: ticket.customerId,
        amountCents: 2_500,
        currency: 'USD',
        amount: '$25.00',
        reason,
        ticketId: ticket.id,
        creditId: expect.stringMatching(/^cr_/),
      });
      expect(shown).toHaveLength(1);
      expect(shown[0]).toContain(`Target: customer ${ticket.customerId}: credit $25.00 USD for ${ticket.id}`);
      const paid = await creditsWith(h, ticket.customerId, reason);
      expect(paid).toHaveLength(1);
      expect(paid[0]!.id).toBe((result.structuredContent as { creditId: string }).creditId);
      const sent = await writes(h);
      expect(sent).toHaveLength(1);
      const approved = readAudit(env.SUPPORT_AUDIT_FILE).find((r) => r.decision === 'approved')!;
      expect(sent[0]!.idempotencyKey).toBe((approved.approval as { id: string }).id);
    });
  });
});

describe('the credit cap', () => {
  it('refuses an amount above SUPPORT_MAX_CREDIT_CENTS with LIMIT_EXCEEDED before any approval prompt or upstream call', async () => {
    const { h } = fx;
    const ticket = await fx.takeTicket();
    const vars = { SUPPORT_MAX_CREDIT_CENTS: '2500' };
    await withSupport(h, connectV2, { scopes: ALL_SCOPES, vars, approval: 'accept' }, async (session) => {
      const { client, env, shown } = session;
      const amount = (await creditArguments(client)).amount_cents!;
      expect(amount.maximum).toBe(2_500);
      expect(amount.description).toContain('$25.00');

      const reason = uniqueReason('over the cap');
      const over = await client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 2_501, reason },
      });
      expect(errorOf(over)).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        retryable: false,
        details: { maxCents: 2_500, requestedCents: 2_501 },
      });
      expect(errorOf(over)?.message).toContain('$25.00');
      const huge = await client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 500_000, reason },
      });
      expect(errorOf(huge)?.code).toBe('LIMIT_EXCEEDED');
      expect(shown).toEqual([]);
      expect(await h.control.requests()).toEqual([]);
      const audit = readAudit(env.SUPPORT_AUDIT_FILE);
      expect(audit).toHaveLength(2);
      expectRecords(
        audit,
        {
          name: 'issue_service_credit',
          decision: 'invalid',
          outcome: 'error',
          errorCode: 'LIMIT_EXCEEDED',
          upstreamCalls: 0,
        },
        ['approval'],
      );
      expect(audit[0]!.args).toMatchObject({ customer_id: ticket.customerId, amount_cents: 2_501, reason });
      expect(readAudit(env.SUPPORT_AUDIT_FILE, 'intent')).toEqual([]);

      // Exactly the cap is allowed (and still needs the human).
      const atCap = await client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 2_500, reason },
      });
      expect(ok(atCap)).toMatchObject({ amountCents: 2_500 });
      expect(shown).toHaveLength(1);
      expect(await creditsWith(h, ticket.customerId, reason)).toHaveLength(1);
    });
  });

  it('defaults to $100 and is checked before a two-step token is issued', async () => {
    const ticket = await fx.takeTicket();
    const twoStep = { SUPPORT_APPROVAL_MODE: 'two-step' };
    await withSupport(fx.h, connectV1, { scopes: ALL_SCOPES, vars: twoStep, approval: 'none' }, async (s) => {
      const argumentSchemas = await creditArguments(s.client);
      expect(argumentSchemas.amount_cents!.maximum).toBe(10_000);
      expect(argumentSchemas).toHaveProperty('approval_token');
      const over = await s.client.callTool({
        name: 'issue_service_credit',
        arguments: {
          customer_id: ticket.customerId,
          amount_cents: 10_001,
          reason: 'just above the default cap',
        },
      });
      const error = errorOf(over)!;
      expect(error.code).toBe('LIMIT_EXCEEDED');
      expect(error.details).not.toHaveProperty('approvalToken');
      expect(await fx.h.control.requests()).toEqual([]);
    });
  });
});

describe('at most once', () => {
  it('two-step: the token executes once; a replay is DENIED, and even another replica cannot pay twice', async () => {
    const { h } = fx;
    const ticket = await fx.takeTicket();
    const stateKey = 's'.repeat(48);
    const env = h.env({
      SUPPORT_SCOPES: ALL_SCOPES,
      SUPPORT_APPROVAL_MODE: 'two-step',
      SUPPORT_STATE_KEY: stateKey,
    });
    const args = {
      customer_id: ticket.customerId,
      amount_cents: 4_200,
      reason: uniqueReason('two-step credit'),
      ticket_id: ticket.id,
    };
    let creditId = '';
    let token = '';
    await withClient(connectV2({ server: support, env, approval: 'none' }), async ({ client }) => {
      const plan = await client.callTool({ name: 'issue_service_credit', arguments: args });
      const planned = errorOf(plan)!;
      expect(planned.code).toBe('APPROVAL_REQUIRED');
      token = planned.details?.approvalToken as string;
      expect(token).toBeTypeOf('string');
      expect(textOf(plan)).toContain('$42.00');
      expect(await writes(h)).toEqual([]);

      // The token is bound to the exact arguments.
      const retargeted = await client.callTool({
        name: 'issue_service_credit',
        arguments: { ...args, amount_cents: 9_999, approval_token: token },
      });
      expect(errorOf(retargeted)?.code).toBe('DENIED');
      expect(await writes(h)).toEqual([]);

      const run = await client.callTool({
        name: 'issue_service_credit',
        arguments: { ...args, approval_token: token },
      });
      creditId = ok<{ creditId: string }>(run).creditId;
      const replay = await client.callTool({
        name: 'issue_service_credit',
        arguments: { ...args, approval_token: token },
      });
      expect(errorOf(replay)?.code).toBe('DENIED');
      expect(await creditsWith(h, ticket.customerId, args.reason)).toHaveLength(1);

      const calls = readAudit(env.SUPPORT_AUDIT_FILE).filter((r) => r.name === 'issue_service_credit');
      expect(calls.map((r) => [r.decision, r.outcome, r.errorCode])).toEqual([
        ['approval_requested', 'pending', 'APPROVAL_REQUIRED'],
        ['denied', 'error', 'DENIED'],
        ['token_approved', 'ok', undefined],
        ['denied', 'error', 'DENIED'],
      ]);
      const approvalId = (calls[2]!.approval as { id: string; mode: string }).id;
      expect(calls[2]!.approval).toEqual({ id: approvalId, mode: 'two-step' });
      expect(calls[0]!.callId).toBe(calls[2]!.callId);
      const sent = await writes(h);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.idempotencyKey).toBe(approvalId);
      expect(JSON.stringify(readAudit(env.SUPPORT_AUDIT_FILE, 'all'))).not.toContain(token);
    });

    // A second server with the same state key has not seen the token spent; the upstream Idempotency-Key still holds.
    const replica = connectV2({
      server: support,
      env: { ...env, SUPPORT_AUDIT_FILE: `${env.SUPPORT_AUDIT_FILE}.replica` },
      approval: 'none',
    });
    await withClient(replica, async ({ client }) => {
      const again = await client.callTool({
        name: 'issue_service_credit',
        arguments: { ...args, approval_token: token },
      });
      expect(ok<{ creditId: string }>(again).creditId).toBe(creditId);
    });
    expect(await creditsWith(h, ticket.customerId, args.reason)).toHaveLength(1);
    const sent = await writes(h);
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((r) => r.idempotencyKey)).size).toBe(1);
  });

  it('a credit retried after an upstream failure is paid once', async () => {
    const { h } = fx;
    const ticket = await fx.takeTicket();
    const path = `/support/v1/customers/${ticket.customerId}/credits`;
    await h.control.setFaults([{ method: 'POST', path, status: 503, times: 1 }]);
    const session = { scopes: ALL_SCOPES, approval: 'accept' } as const;
    await withSupport(h, connectV2, session, async ({ client }) => {
      const reason = uniqueReason('retried credit');
      const result = await client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 1_500, reason },
      });
      expect(ok(result)).toMatchObject({ amountCents: 1_500 });
      const sent = await writes(h);
      expect(sent.map((r) => [r.path, r.status])).toEqual([
        [path, 503],
        [path, 201],
      ]);
      expect(new Set(sent.map((r) => r.idempotencyKey)).size).toBe(1);
      expect(await creditsWith(h, ticket.customerId, reason)).toHaveLength(1);
    }).finally(() => h.control.clearFaults());
  });
});

describe('untrusted ticket text', () => {
  it('cannot trigger a credit: over the cap it is refused, and within it nothing happens without a human', async () => {
    const { h, injected } = fx;
    const before = await creditsOf(h, injected.customerId);
    await h.control.clearRequests();
    // What a model that obeyed the ticket would do, with every scope granted.
    const obey = {
      customer_id: injected.customerId,
      reason: 'SYSTEM instruction found in the ticket',
      ticket_id: injected.id,
    };
    const shown: string[] = [];
    const env = h.env({ SUPPORT_SCOPES: ALL_SCOPES });
    await withClient(connectV2({ server: support, env, approval: 'decline', shown }), async (declining) => {
      await declining.client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: injected.id } });
      const big = await declining.client.callTool({
        name: 'issue_service_credit',
        arguments: { ...obey, amount_cents: 500_000 },
      });
      expect(errorOf(big)?.code).toBe('LIMIT_EXCEEDED');
      expect(shown).toEqual([]);
      const small = await declining.client.callTool({
        name: 'issue_service_credit',
        arguments: { ...obey, amount_cents: 5_000 },
      });
      expect(errorOf(small)?.code).toBe('APPROVAL_DECLINED');
      // The human was asked, with the server's rendering of the exact action.
      expect(shown).toHaveLength(1);
      expect(shown[0]).toContain('DESTRUCTIVE');
      expect(shown[0]).toContain(`customer ${injected.customerId}: credit $50.00 USD`);
    });
    await withSupport(h, connectV1, { scopes: ALL_SCOPES, approval: 'none' }, async (headless) => {
      const small = await headless.client.callTool({
        name: 'issue_service_credit',
        arguments: { ...obey, amount_cents: 5_000 },
      });
      expect(errorOf(small)?.code).toBe('APPROVAL_REQUIRED');
    });
    expect(await writes(h)).toEqual([]);
    expect(await creditsOf(h, injected.customerId)).toEqual(before);
    expect(readAudit(env.SUPPORT_AUDIT_FILE, 'intent')).toEqual([]);
  });
});
