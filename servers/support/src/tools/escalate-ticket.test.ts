/** escalate_ticket, and what every human-approved tool does when the human declines or cannot be asked. */
import { errorOf, readAudit } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import {
  ALL_SCOPES,
  APPROVAL_CLIENTS,
  creditsWith,
  expectRecords,
  ok,
  spareTickets,
  textOf,
  uniqueReason,
  useHarness,
  WRITE_SCOPES,
  withSupport,
  writes,
} from '../../test/harness.ts';

const fx = useHarness(async (h) => ({ takeTicket: await spareTickets(h) }));
const escalated = async (ticketId: string) =>
  (await fx.h.api<{ escalated: boolean }>(`/support/v1/tickets/${ticketId}`)).escalated;

describe.each(APPROVAL_CLIENTS)('human approval (%s)', (_label, connect) => {
  it('escalates once when the human accepts, with the approval id as Idempotency-Key', async () => {
    const ticket = await fx.takeTicket();
    const session = { scopes: WRITE_SCOPES, approval: 'accept' } as const;
    await withSupport(fx.h, connect, session, async ({ client, env, shown }) => {
      await client.listTools();
      const args = {
        ticket_id: ticket.id,
        level: 'engineering',
        reason: 'Checkout failures reproduced across regions',
      };
      const result = await client.callTool({ name: 'escalate_ticket', arguments: args });
      expect(ok(result)).toMatchObject({
        ticketId: ticket.id,
        level: 'engineering',
        reason: args.reason,
        escalationId: expect.stringMatching(/^esc_/),
      });
      expect(textOf(result)).toContain(`Ticket ${ticket.id} escalated to engineering`);
      expect(shown).toHaveLength(1);
      expect(shown[0]).toContain('"escalate_ticket"');
      expect(shown[0]).toContain(`Target: ticket ${ticket.id} → engineering`);
      expect(shown[0]).toContain(JSON.stringify(args.reason));

      const sent = await writes(fx.h);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({
        method: 'POST',
        path: `/support/v1/tickets/${ticket.id}/escalations`,
        status: 201,
      });
      expect(await escalated(ticket.id)).toBe(true);

      const calls = readAudit(env.SUPPORT_AUDIT_FILE);
      const requested = calls.find((r) => r.decision === 'approval_requested')!;
      const approved = calls.find((r) => r.decision === 'approved')!;
      expect(requested).toMatchObject({ name: 'escalate_ticket', outcome: 'pending', upstreamCalls: 0 });
      expect(approved).toMatchObject({
        name: 'escalate_ticket',
        outcome: 'ok',
        upstreamStatus: 201,
        upstreamCalls: 1,
        approval: { mode: 'elicit' },
        args,
      });
      expect(sent[0]!.idempotencyKey).toBe((approved.approval as { id: string }).id);
      expect(requested.callId).toBe(approved.callId);
      const intents = readAudit(env.SUPPORT_AUDIT_FILE, 'intent');
      expect(intents).toHaveLength(1);
      expect(intents[0]).toMatchObject({
        name: 'escalate_ticket',
        callId: approved.callId,
        decision: 'approved',
        outcome: 'pending',
        approval: approved.approval,
      });
    });
  });

  it('does nothing when the human declines: APPROVAL_DECLINED, no upstream write, no intent', async () => {
    const ticket = await fx.takeTicket();
    const session = { scopes: ALL_SCOPES, approval: 'decline' } as const;
    await withSupport(fx.h, connect, session, async ({ client, env }) => {
      const reason = uniqueReason('goodwill credit');
      const credit = await client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 1_000, reason },
      });
      expect(errorOf(credit)).toMatchObject({ code: 'APPROVAL_DECLINED', retryable: false });
      const escalate = await client.callTool({
        name: 'escalate_ticket',
        arguments: { ticket_id: ticket.id, level: 'tier2', reason: 'customer asked for a supervisor' },
      });
      expect(errorOf(escalate)?.code).toBe('APPROVAL_DECLINED');
      expect(await writes(fx.h)).toEqual([]);
      expect(await creditsWith(fx.h, ticket.customerId, reason)).toEqual([]);
      expect(await escalated(ticket.id)).toBe(false);
      const declined = readAudit(env.SUPPORT_AUDIT_FILE).filter((r) => r.decision === 'declined');
      expect(declined.map((r) => r.name)).toEqual(['issue_service_credit', 'escalate_ticket']);
      expectRecords(declined, { outcome: 'error', errorCode: 'APPROVAL_DECLINED', upstreamCalls: 0 });
      expect(readAudit(env.SUPPORT_AUDIT_FILE, 'intent')).toEqual([]);
    });
  });

  it('refuses with APPROVAL_REQUIRED when the client cannot ask a human', async () => {
    const ticket = await fx.takeTicket();
    const session = { scopes: ALL_SCOPES, approval: 'none' } as const;
    await withSupport(fx.h, connect, session, async ({ client, env }) => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(['escalate_ticket', 'issue_service_credit']),
      );
      const credit = await client.callTool({
        name: 'issue_service_credit',
        arguments: {
          customer_id: ticket.customerId,
          amount_cents: 1_000,
          reason: 'customer insists it was approved',
        },
      });
      expect(errorOf(credit)?.code).toBe('APPROVAL_REQUIRED');
      expect(errorOf(credit)?.message).toMatch(/elicitation|two-step/);
      // A model cannot approve on the human's behalf by adding an argument.
      const selfApproved = await client.callTool({
        name: 'escalate_ticket',
        arguments: { ticket_id: ticket.id, level: 'management', reason: 'approved already', approved: true },
      });
      expect(errorOf(selfApproved)?.code).toBe('INVALID_ARGUMENT');
      expect(await writes(fx.h)).toEqual([]);
      expect(readAudit(env.SUPPORT_AUDIT_FILE).find((r) => r.name === 'issue_service_credit')).toMatchObject({
        decision: 'approval_requested',
        outcome: 'error',
        errorCode: 'APPROVAL_REQUIRED',
        upstreamCalls: 0,
      });
    });
  });
});
