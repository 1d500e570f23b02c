/** The tool registry as a whole: every read tool end to end, argument validation, and who sees which tool. */
import { connectV1, connectV2, errorOf, readAudit } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import {
  ALL_SCOPES,
  expectRecords,
  type LookupJson,
  ok,
  shortTicketIn,
  type TicketPageJson,
  type ToolCaller,
  textOf,
  useFullTickets,
  WRITE_SCOPES,
  withSupport,
  writes,
} from '../../test/harness.ts';

const fx = useFullTickets((full) => ({ shortTicket: shortTicketIn(full) }));

/** What a caller with only support:read (or in read-only mode) sees, sorted. */
const READ_TOOLS = ['get_customer_status', 'list_customer_tickets', 'lookup_ticket', 'search_tickets'];

const callIds = (records: Array<{ name: string }>) => records.map((r) => r.name);

describe.each([
  ['v2 client, 2026-07-28', connectV2],
  ['v1 client, 2025-11-25', connectV1],
] as const)('every read tool (%s)', (_label, connect) => {
  it('answers with structured content that matches its schema and a text fallback, and audits each call', () =>
    withSupport(fx.h, connect, {}, async ({ client, env }) => {
      const { h, shortTicket } = fx;
      // Listing first lets the v1 client validate structured content against each output schema.
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
      for (const tool of tools) {
        expect(tool.annotations).toMatchObject({
          readOnlyHint: true,
          destructiveHint: false,
          idempotentHint: true,
          openWorldHint: true,
        });
        expect(tool.outputSchema?.type).toBe('object');
        expect(tool.description!.length).toBeGreaterThan(60);
      }

      const lookup = await client.callTool({
        name: 'lookup_ticket',
        arguments: { ticket_id: shortTicket.id },
      });
      const t = ok<LookupJson>(lookup);
      expect(t.ticket.id).toBe(shortTicket.id);
      expect(t.truncated).toBe(false);
      expect(t.nextCursor).toBeNull();
      expect(t.comments.map((x) => x.id)).toEqual(shortTicket.comments.map((x) => x.id));
      expect(t.sla.firstResponse).toMatch(/^(met|missed|due|overdue)$/);
      expect(t.sla.resolution).toMatch(/^(resolved|due|overdue)$/);
      expect(textOf(lookup)).toContain(`Ticket ${shortTicket.id}`);
      expect(textOf(lookup)).toContain('End of thread.');

      const search = await client.callTool({
        name: 'search_tickets',
        arguments: { query: 'refund', status: 'closed', limit: 5 },
      });
      const page = ok<TicketPageJson>(search);
      expect(page.tickets.length).toBeGreaterThan(0);
      expect(page.tickets.every((x) => x.status === 'closed')).toBe(true);
      expect(textOf(search)).toMatch(/^Search results: \d+ ticket\(s\)/);

      const customerId = page.tickets[0]!.customerId;
      const status = await client.callTool({
        name: 'get_customer_status',
        arguments: { customer_id: customerId },
      });
      const upstream = await h.api<{
        plan: string;
        health: string;
        openTickets: number;
        slaBreaches: number;
        recentCredits: Array<{ amountCents: number }>;
      }>(`/support/v1/customers/${customerId}`);
      expect(ok(status)).toMatchObject({
        customer: { id: customerId, plan: upstream.plan, health: upstream.health },
        openTickets: upstream.openTickets,
        slaBreaches: upstream.slaBreaches,
        recentCreditsTotalCents: upstream.recentCredits.reduce((n, x) => n + x.amountCents, 0),
      });
      expect(textOf(status)).toContain(`${upstream.plan} plan`);

      const mine = await client.callTool({
        name: 'list_customer_tickets',
        arguments: { customer_id: customerId, limit: 3 },
      });
      const minePage = ok<TicketPageJson>(mine);
      expect(minePage.tickets.length).toBeGreaterThan(0);
      expect(minePage.tickets.every((x) => x.customerId === customerId)).toBe(true);

      const calls = readAudit(env.SUPPORT_AUDIT_FILE);
      expect(callIds(calls)).toEqual([
        'lookup_ticket',
        'search_tickets',
        'get_customer_status',
        'list_customer_tickets',
      ]);
      expectRecords(
        calls,
        {
          event: 'call',
          server: 'support',
          kind: 'tool',
          decision: 'allowed',
          outcome: 'ok',
          upstreamStatus: 200,
          upstreamCalls: 1,
        },
        ['errorCode'],
      );
      expect(calls[0]!.args).toEqual({ ticket_id: shortTicket.id });
      expect(readAudit(env.SUPPORT_AUDIT_FILE, 'intent')).toHaveLength(0);
    }));
});

describe('bad input never reaches or changes the upstream path', () => {
  it('rejects unknown arguments, wrong types and out-of-range limits', () =>
    withSupport(fx.h, connectV1, { scopes: WRITE_SCOPES }, async ({ client }) => {
      const { h } = fx;
      await h.control.clearRequests();
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        ['lookup_ticket', {}, /ticket_id/],
        ['lookup_ticket', { ticket_id: 10001 }, /ticket_id/],
        ['lookup_ticket', { ticket_id: 'T-10001', delete: true }, /delete|unrecognized/i],
        ['search_tickets', { limit: 500 }, /limit/],
        ['search_tickets', { status: 'deleted' }, /status/],
        ['search_tickets', { created_after: 'last week' }, /created_after/],
        ['search_tickets', { query: 'a\u0000b' }, /query/],
        ['add_internal_note', { ticket_id: 'T-10001', note: '' }, /note/],
        [
          'escalate_ticket',
          { ticket_id: 'T-10001', level: 'ceo', reason: 'the customer is very upset' },
          /level/,
        ],
      ];
      for (const [name, args, field] of cases) {
        const error = errorOf(await client.callTool({ name, arguments: args }));
        expect(error?.code, `${name} ${JSON.stringify(args)}`).toBe('INVALID_ARGUMENT');
        expect(error?.message).toMatch(field);
      }
      expect(await h.control.requests()).toEqual([]);
    }));
});

describe('scopes and policy', () => {
  const callOrError = (client: ToolCaller, name: string, args: Record<string, unknown>) =>
    client.callTool({ name, arguments: args }).then(
      (r) => ({ kind: 'result' as const, text: JSON.stringify(r) }),
      (e: Error) => ({ kind: 'error' as const, text: e.message }),
    );

  it.each([
    ['support:read (default)', undefined, READ_TOOLS],
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
      const { h } = fx;
      await h.control.clearRequests();
      await withSupport(h, connectV2, { scopes }, async ({ client, env }) => {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(visible);
        const hidden = ['add_internal_note', 'escalate_ticket', 'issue_service_credit'].filter(
          (n) => !visible.includes(n),
        );
        const unknown = await callOrError(client, 'no_such_tool', {});
        for (const name of hidden) {
          const answer = await callOrError(client, name, {
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
        expectRecords(protocol, { decision: 'unknown', outcome: 'error', errorCode: 'UNKNOWN_TOOL' });
      });
    },
  );

  it.each([
    ['SUPPORT_READ_ONLY=true', { SUPPORT_READ_ONLY: 'true' }, []],
    ['--read-only', {}, ['--read-only']],
  ])('read-only mode (%s) hides every side effect whatever the scopes', (_label, vars, args) =>
    withSupport(fx.h, connectV1, { scopes: `${ALL_SCOPES},support:pii`, vars, args }, async ({ client }) => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
      await expect(
        client.callTool({
          name: 'issue_service_credit',
          arguments: { customer_id: 'cus_x', amount_cents: 100, reason: 'read only probe' },
        }),
      ).rejects.toThrow();
    }),
  );
});
