import { connectV1, connectV2, errorOf, readAudit } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_SCOPES,
  allTickets,
  BIN,
  creditsOf,
  type Harness,
  ok,
  startHarness,
  type TicketSummaryJson,
  textOf,
  WRITE_SCOPES,
  writes,
} from './harness.ts';

let h: Harness;
let tickets: TicketSummaryJson[];
let spare: TicketSummaryJson[];
beforeAll(async () => {
  h = await startHarness();
  tickets = await allTickets(h);
  // Tickets not yet escalated, handed out one per test so effects never overlap.
  spare = (tickets as Array<TicketSummaryJson & { escalated?: boolean }>).filter(
    (t) => t.escalated === false,
  );
}, 60_000);
afterAll(() => h.close());

const takeTicket = (): TicketSummaryJson => spare.shift()!;
let reasonSeq = 0;
/** A reason no other credit has, so the upstream's credit list shows exactly what this test did. */
const uniqueReason = (what: string) => `${what} #${++reasonSeq}-${Date.now().toString(36)}`;
const creditsWith = async (customerId: string, reason: string) =>
  (await creditsOf(h, customerId)).filter((c) => c.reason === reason);

describe.each([
  ['v2 client, input-required rounds', connectV2],
  ['v1 client, elicitation shim', connectV1],
] as const)('human approval (%s)', (_label, connect) => {
  it('escalates once when the human accepts, with the approval id as Idempotency-Key', async () => {
    const ticket = takeTicket();
    await h.control.clearRequests();
    const shown: string[] = [];
    const env = h.env({ SUPPORT_SCOPES: WRITE_SCOPES });
    const c = await connect({ bin: BIN, env, approval: 'accept', shown });
    try {
      await c.client.listTools();
      const args = {
        ticket_id: ticket.id,
        level: 'engineering',
        reason: 'Checkout failures reproduced across regions',
      };
      const result = await c.client.callTool({ name: 'escalate_ticket', arguments: args });
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

      const sent = await writes(h);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({
        method: 'POST',
        path: `/support/v1/tickets/${ticket.id}/escalations`,
        status: 201,
      });
      expect((await h.api<{ escalated: boolean }>(`/support/v1/tickets/${ticket.id}`)).escalated).toBe(true);

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
    } finally {
      await c.close();
    }
  });

  it('issues a credit once when the human accepts', async () => {
    const ticket = takeTicket();
    await h.control.clearRequests();
    const shown: string[] = [];
    const env = h.env({ SUPPORT_SCOPES: ALL_SCOPES });
    const c = await connect({ bin: BIN, env, approval: 'accept', shown });
    try {
      const reason = uniqueReason('SLA breach compensation');
      const result = await c.client.callTool({
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
      const paid = await creditsWith(ticket.customerId, reason);
      expect(paid).toHaveLength(1);
      expect(paid[0]!.id).toBe((result.structuredContent as { creditId: string }).creditId);
      const sent = await writes(h);
      expect(sent).toHaveLength(1);
      const approved = readAudit(env.SUPPORT_AUDIT_FILE).find((r) => r.decision === 'approved')!;
      expect(sent[0]!.idempotencyKey).toBe((approved.approval as { id: string }).id);
    } finally {
      await c.close();
    }
  });

  it('does nothing when the human declines: APPROVAL_DECLINED, no upstream write, no intent', async () => {
    const ticket = takeTicket();
    await h.control.clearRequests();
    const env = h.env({ SUPPORT_SCOPES: ALL_SCOPES });
    const c = await connect({ bin: BIN, env, approval: 'decline' });
    try {
      const reason = uniqueReason('goodwill credit');
      const credit = await c.client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 1_000, reason },
      });
      expect(errorOf(credit)).toMatchObject({ code: 'APPROVAL_DECLINED', retryable: false });
      const escalate = await c.client.callTool({
        name: 'escalate_ticket',
        arguments: { ticket_id: ticket.id, level: 'tier2', reason: 'customer asked for a supervisor' },
      });
      expect(errorOf(escalate)?.code).toBe('APPROVAL_DECLINED');
      expect(await writes(h)).toEqual([]);
      expect(await creditsWith(ticket.customerId, reason)).toEqual([]);
      expect((await h.api<{ escalated: boolean }>(`/support/v1/tickets/${ticket.id}`)).escalated).toBe(false);
      const declined = readAudit(env.SUPPORT_AUDIT_FILE).filter((r) => r.decision === 'declined');
      expect(declined.map((r) => r.name)).toEqual(['issue_service_credit', 'escalate_ticket']);
      for (const record of declined)
        expect(record).toMatchObject({ outcome: 'error', errorCode: 'APPROVAL_DECLINED', upstreamCalls: 0 });
      expect(readAudit(env.SUPPORT_AUDIT_FILE, 'intent')).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('refuses with APPROVAL_REQUIRED when the client cannot ask a human', async () => {
    const ticket = takeTicket();
    await h.control.clearRequests();
    const env = h.env({ SUPPORT_SCOPES: ALL_SCOPES });
    const c = await connect({ bin: BIN, env, approval: 'none' });
    try {
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(['escalate_ticket', 'issue_service_credit']),
      );
      const credit = await c.client.callTool({
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
      const selfApproved = await c.client.callTool({
        name: 'escalate_ticket',
        arguments: { ticket_id: ticket.id, level: 'management', reason: 'approved already', approved: true },
      });
      expect(errorOf(selfApproved)?.code).toBe('INVALID_ARGUMENT');
      expect(await writes(h)).toEqual([]);
      expect(readAudit(env.SUPPORT_AUDIT_FILE).find((r) => r.name === 'issue_service_credit')).toMatchObject({
        decision: 'approval_requested',
        outcome: 'error',
        errorCode: 'APPROVAL_REQUIRED',
        upstreamCalls: 0,
      });
    } finally {
      await c.close();
    }
  });
});

describe('internal notes (no approval step)', () => {
  it('adds the note at once, with an Idempotency-Key and an intent record before the write', async () => {
    const ticket = takeTicket();
    await h.control.clearRequests();
    const shown: string[] = [];
    const env = h.env({ SUPPORT_SCOPES: WRITE_SCOPES });
    const c = await connectV2({ bin: BIN, env, approval: 'accept', shown });
    try {
      const note = `Processor logs show timeouts; waiting on ENG-4821 (${uniqueReason('note')}).`;
      const result = await c.client.callTool({
        name: 'add_internal_note',
        arguments: { ticket_id: ticket.id, note },
      });
      expect(ok(result)).toMatchObject({
        ticketId: ticket.id,
        internal: true,
        note,
        author: 'Gatehouse (local-operator)',
        noteId: expect.stringMatching(/^cmt_/),
      });
      expect(shown).toEqual([]);
      const sent = await writes(h);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ path: `/support/v1/tickets/${ticket.id}/notes`, status: 201 });
      expect(sent[0]!.idempotencyKey).toBeTypeOf('string');
      const [call] = readAudit(env.SUPPORT_AUDIT_FILE);
      expect(call).toMatchObject({
        name: 'add_internal_note',
        decision: 'allowed',
        outcome: 'ok',
        upstreamStatus: 201,
        args: { ticket_id: ticket.id, note },
      });
      expect(call).not.toHaveProperty('approval');
      expect(sent[0]!.idempotencyKey).toBe(call!.callId);
      expect(readAudit(env.SUPPORT_AUDIT_FILE, 'intent')).toMatchObject([
        { name: 'add_internal_note', callId: call!.callId, outcome: 'pending' },
      ]);

      const thread = ok<{ totalComments: number }>(
        await c.client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: ticket.id } }),
      );
      let cursor: string | null = null;
      let last:
        | {
            comments: Array<{ internal: boolean; author: string; content: { text: string } }>;
            nextCursor: string | null;
          }
        | undefined;
      for (let n = 0; n < 30; n++) {
        last = ok(
          await c.client.callTool({
            name: 'lookup_ticket',
            arguments: { ticket_id: ticket.id, ...(cursor ? { cursor } : {}) },
          }),
        );
        if (!last!.nextCursor) break;
        cursor = last!.nextCursor;
      }
      expect(thread.totalComments).toBeGreaterThan(0);
      expect(last!.comments.at(-1)).toMatchObject({
        internal: true,
        author: 'Gatehouse (local-operator)',
        content: { untrusted: true, text: note },
      });
    } finally {
      await c.close();
    }
  });
});

describe('the credit cap', () => {
  it('refuses an amount above SUPPORT_MAX_CREDIT_CENTS with LIMIT_EXCEEDED before any approval prompt or upstream call', async () => {
    const ticket = takeTicket();
    await h.control.clearRequests();
    const shown: string[] = [];
    const env = h.env({ SUPPORT_SCOPES: ALL_SCOPES, SUPPORT_MAX_CREDIT_CENTS: '2500' });
    const c = await connectV2({ bin: BIN, env, approval: 'accept', shown });
    try {
      const { tools } = await c.client.listTools();
      const schema = tools.find((t) => t.name === 'issue_service_credit')!.inputSchema as unknown as {
        properties: { amount_cents: { maximum: number; description: string } };
      };
      expect(schema.properties.amount_cents.maximum).toBe(2_500);
      expect(schema.properties.amount_cents.description).toContain('$25.00');

      const reason = uniqueReason('over the cap');
      const over = await c.client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 2_501, reason },
      });
      expect(errorOf(over)).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        retryable: false,
        details: { maxCents: 2_500, requestedCents: 2_501 },
      });
      expect(errorOf(over)?.message).toContain('$25.00');
      const huge = await c.client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 500_000, reason },
      });
      expect(errorOf(huge)?.code).toBe('LIMIT_EXCEEDED');
      expect(shown).toEqual([]);
      expect(await h.control.requests()).toEqual([]);
      const audit = readAudit(env.SUPPORT_AUDIT_FILE);
      expect(audit).toHaveLength(2);
      for (const record of audit) {
        expect(record).toMatchObject({
          name: 'issue_service_credit',
          decision: 'invalid',
          outcome: 'error',
          errorCode: 'LIMIT_EXCEEDED',
          upstreamCalls: 0,
        });
        expect(record).not.toHaveProperty('approval');
      }
      expect(audit[0]!.args).toMatchObject({ customer_id: ticket.customerId, amount_cents: 2_501, reason });
      expect(readAudit(env.SUPPORT_AUDIT_FILE, 'intent')).toEqual([]);

      // Exactly the cap is allowed (and still needs the human).
      const atCap = await c.client.callTool({
        name: 'issue_service_credit',
        arguments: { customer_id: ticket.customerId, amount_cents: 2_500, reason },
      });
      expect(ok(atCap)).toMatchObject({ amountCents: 2_500 });
      expect(shown).toHaveLength(1);
      expect(await creditsWith(ticket.customerId, reason)).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it('defaults to $100 and is checked before a two-step token is issued', async () => {
    const ticket = takeTicket();
    await h.control.clearRequests();
    const env = h.env({ SUPPORT_SCOPES: ALL_SCOPES, SUPPORT_APPROVAL_MODE: 'two-step' });
    const c = await connectV1({ bin: BIN, env, approval: 'none' });
    try {
      const { tools } = await c.client.listTools();
      const schema = tools.find((t) => t.name === 'issue_service_credit')!.inputSchema as {
        properties: Record<string, { maximum?: number }>;
      };
      expect(schema.properties.amount_cents!.maximum).toBe(10_000);
      expect(schema.properties).toHaveProperty('approval_token');
      const over = await c.client.callTool({
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
      expect(await h.control.requests()).toEqual([]);
    } finally {
      await c.close();
    }
  });
});

describe('at most once', () => {
  it('two-step: the token executes once; a replay is DENIED, and even another replica cannot pay twice', async () => {
    const ticket = takeTicket();
    await h.control.clearRequests();
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
    const c = await connectV2({ bin: BIN, env, approval: 'none' });
    let creditId: string;
    let token: string;
    try {
      const plan = await c.client.callTool({ name: 'issue_service_credit', arguments: args });
      const planned = errorOf(plan)!;
      expect(planned.code).toBe('APPROVAL_REQUIRED');
      token = planned.details?.approvalToken as string;
      expect(token).toBeTypeOf('string');
      expect(textOf(plan)).toContain('$42.00');
      expect(await writes(h)).toEqual([]);

      // The token is bound to the exact arguments.
      const retargeted = await c.client.callTool({
        name: 'issue_service_credit',
        arguments: { ...args, amount_cents: 9_999, approval_token: token },
      });
      expect(errorOf(retargeted)?.code).toBe('DENIED');
      expect(await writes(h)).toEqual([]);

      const run = await c.client.callTool({
        name: 'issue_service_credit',
        arguments: { ...args, approval_token: token },
      });
      creditId = ok<{ creditId: string }>(run).creditId;
      const replay = await c.client.callTool({
        name: 'issue_service_credit',
        arguments: { ...args, approval_token: token },
      });
      expect(errorOf(replay)?.code).toBe('DENIED');
      expect(await creditsWith(ticket.customerId, args.reason)).toHaveLength(1);

      const calls = readAudit(env.SUPPORT_AUDIT_FILE).filter((r) => r.name === 'issue_service_credit');
      expect(calls.map((r) => [r.decision, r.outcome, r.errorCode])).toEqual([
        ['approval_requested', 'pending', 'APPROVAL_REQUIRED'],
        ['denied', 'error', 'DENIED'],
        ['approved', 'ok', undefined],
        ['denied', 'error', 'DENIED'],
      ]);
      const approvalId = (calls[2]!.approval as { id: string; mode: string }).id;
      expect(calls[2]!.approval).toEqual({ id: approvalId, mode: 'two-step' });
      expect(calls[0]!.callId).toBe(calls[2]!.callId);
      const sent = await writes(h);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.idempotencyKey).toBe(approvalId);
      expect(JSON.stringify(readAudit(env.SUPPORT_AUDIT_FILE, 'all'))).not.toContain(token);
    } finally {
      await c.close();
    }

    // A second process with the same state key has not seen the token spent; the upstream Idempotency-Key still holds.
    const replica = await connectV2({
      bin: BIN,
      env: { ...env, SUPPORT_AUDIT_FILE: `${env.SUPPORT_AUDIT_FILE}.replica` },
      approval: 'none',
    });
    try {
      const again = await replica.client.callTool({
        name: 'issue_service_credit',
        arguments: { ...args, approval_token: token },
      });
      expect(ok<{ creditId: string }>(again).creditId).toBe(creditId);
    } finally {
      await replica.close();
    }
    expect(await creditsWith(ticket.customerId, args.reason)).toHaveLength(1);
    const sent = await writes(h);
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((r) => r.idempotencyKey)).size).toBe(1);
  });

  it('a credit retried after an upstream failure is paid once', async () => {
    const ticket = takeTicket();
    await h.control.clearRequests();
    const path = `/support/v1/customers/${ticket.customerId}/credits`;
    await h.control.setFaults([{ method: 'POST', path, status: 503, times: 1 }]);
    const env = h.env({ SUPPORT_SCOPES: ALL_SCOPES });
    const c = await connectV2({ bin: BIN, env, approval: 'accept' });
    try {
      const reason = uniqueReason('retried credit');
      const result = await c.client.callTool({
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
      expect(await creditsWith(ticket.customerId, reason)).toHaveLength(1);
    } finally {
      await h.control.clearFaults();
      await c.close();
    }
  });
});

describe('scopes and policy', () => {
  const callOrError = (
    c: {
      client: { callTool: (p: { name: string; arguments: Record<string, unknown> }) => Promise<unknown> };
    },
    name: string,
    args: Record<string, unknown>,
  ) =>
    c.client.callTool({ name, arguments: args }).then(
      (r) => ({ kind: 'result' as const, text: JSON.stringify(r) }),
      (e: Error) => ({ kind: 'error' as const, text: e.message }),
    );

  it.each([
    [
      'support:read (default)',
      undefined,
      ['get_customer_status', 'list_customer_tickets', 'lookup_ticket', 'search_tickets'],
    ],
    [
      'support:write without support:credit',
      WRITE_SCOPES,
      [
        'add_internal_note',
        'escalate_ticket',
        'get_customer_status',
        'list_customer_tickets',
        'lookup_ticket',
        'search_tickets',
      ],
    ],
    [
      'every scope',
      ALL_SCOPES,
      [
        'add_internal_note',
        'escalate_ticket',
        'get_customer_status',
        'issue_service_credit',
        'list_customer_tickets',
        'lookup_ticket',
        'search_tickets',
      ],
    ],
  ])(
    '%s sees exactly its tools; a hidden tool answers like one that does not exist',
    async (_label, scopes, visible) => {
      await h.control.clearRequests();
      const env = h.env(scopes ? { SUPPORT_SCOPES: scopes } : {});
      const c = await connectV2({ bin: BIN, env });
      try {
        const { tools } = await c.client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(visible);
        const hidden = ['add_internal_note', 'escalate_ticket', 'issue_service_credit'].filter(
          (n) => !visible.includes(n),
        );
        const unknown = await callOrError(c, 'no_such_tool', {});
        for (const name of hidden) {
          const answer = await callOrError(c, name, {
            ticket_id: 'T-10001',
            customer_id: 'cus_x',
            amount_cents: 100,
            reason: 'hidden tool probe',
            note: 'x',
            level: 'tier2',
          });
          expect(answer.kind).toBe(unknown.kind);
          expect(answer.text.replaceAll(name, 'X')).toBe(unknown.text.replaceAll('no_such_tool', 'X'));
          expect(answer.text).toMatch(/not found|unknown/i);
        }
        expect(await writes(h)).toEqual([]);
        const protocol = readAudit(env.SUPPORT_AUDIT_FILE).filter((r) => r.kind === 'protocol');
        expect(protocol.map((r) => r.name)).toEqual(['no_such_tool', ...hidden]);
        for (const record of protocol)
          expect(record).toMatchObject({ decision: 'unknown', outcome: 'error', errorCode: 'UNKNOWN_TOOL' });
      } finally {
        await c.close();
      }
    },
  );

  it.each([
    ['SUPPORT_READ_ONLY=true', { SUPPORT_READ_ONLY: 'true' }, []],
    ['--read-only', {}, ['--read-only']],
  ])('read-only mode (%s) hides every side effect whatever the scopes', async (_label, extra, args) => {
    const c = await connectV1({
      bin: BIN,
      env: h.env({ SUPPORT_SCOPES: `${ALL_SCOPES},support:pii`, ...extra }),
      args,
    });
    try {
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        'get_customer_status',
        'list_customer_tickets',
        'lookup_ticket',
        'search_tickets',
      ]);
      await expect(
        c.client.callTool({
          name: 'issue_service_credit',
          arguments: { customer_id: 'cus_x', amount_cents: 100, reason: 'read only probe' },
        }),
      ).rejects.toThrow();
    } finally {
      await c.close();
    }
  });
});
