import { connectV1, connectV2, errorOf, readAudit } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allTickets,
  BIN,
  type Harness,
  ok,
  startHarness,
  type TicketSummaryJson,
  textOf,
} from './harness.ts';

interface UntrustedJson {
  untrusted: true;
  source: string;
  text: string;
}
interface ListItem {
  id: string;
  customerId: string;
  status: string;
  priority: string;
  createdAt: string;
  subject: UntrustedJson;
  snippet: UntrustedJson;
}
interface TicketPageJson {
  tickets: ListItem[];
  total: number | null;
  nextCursor: string | null;
}
interface Part {
  content: UntrustedJson;
  truncated: boolean;
  continued: boolean;
}
interface LookupJson {
  ticket: { id: string; customerId: string; subject: UntrustedJson; status: string };
  sla: {
    breached: boolean;
    firstResponse: string;
    resolution: string;
    minutesToResolutionDue: number | null;
  };
  body: Part | null;
  comments: Array<Part & { id: string; index: number; authorType: string }>;
  totalComments: number;
  truncated: boolean;
  notice: string | null;
  nextCursor: string | null;
}
interface UpstreamTicket {
  id: string;
  body: string;
  comments: Array<{ id: string; body: string }>;
}

let h: Harness;
let tickets: TicketSummaryJson[];
let longThread: UpstreamTicket;
let shortTicket: UpstreamTicket;
beforeAll(async () => {
  h = await startHarness();
  tickets = await allTickets(h);
  // Fixtures are found in the data, not hard-coded: the longest thread, and a ticket that fits one page.
  const full = await Promise.all(tickets.map((t) => h.api<UpstreamTicket>(`/support/v1/tickets/${t.id}`)));
  const size = (t: UpstreamTicket) => t.body.length + t.comments.reduce((n, c) => n + c.body.length, 0);
  longThread = full.reduce((a, b) => (size(b) > size(a) ? b : a));
  shortTicket = full.find((t) => t.comments.length >= 2 && size(t) < 1_500)!;
}, 60_000);
afterAll(() => h.close());

const callIds = (records: Array<{ name: string }>) => records.map((r) => r.name);

describe.each([
  ['v2 client, 2026-07-28', connectV2],
  ['v1 client, 2025-11-25', connectV1],
] as const)('every read tool (%s)', (_label, connect) => {
  it('answers with structured content that matches its schema and a text fallback, and audits each call', async () => {
    const env = h.env();
    const c = await connect({ bin: BIN, env });
    try {
      // Listing first lets the v1 client validate structured content against each output schema.
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        'get_customer_status',
        'list_customer_tickets',
        'lookup_ticket',
        'search_tickets',
      ]);
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

      const lookup = await c.client.callTool({
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

      const search = await c.client.callTool({
        name: 'search_tickets',
        arguments: { query: 'refund', status: 'closed', limit: 5 },
      });
      const page = ok<TicketPageJson>(search);
      expect(page.tickets.length).toBeGreaterThan(0);
      expect(page.tickets.every((x) => x.status === 'closed')).toBe(true);
      expect(textOf(search)).toMatch(/^Search results: \d+ ticket\(s\)/);

      const customerId = page.tickets[0]!.customerId;
      const status = await c.client.callTool({
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

      const mine = await c.client.callTool({
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
      for (const record of calls) {
        expect(record).toMatchObject({
          event: 'call',
          server: 'support',
          kind: 'tool',
          decision: 'allowed',
          outcome: 'ok',
          upstreamStatus: 200,
          upstreamCalls: 1,
        });
        expect(record).not.toHaveProperty('errorCode');
      }
      expect(calls[0]!.args).toEqual({ ticket_id: shortTicket.id });
      expect(readAudit(env.SUPPORT_AUDIT_FILE, 'intent')).toHaveLength(0);
    } finally {
      await c.close();
    }
  });
});

describe('pagination', () => {
  it('walks search_tickets to the end: every matching ticket once, in upstream order', async () => {
    const c = await connectV2({ bin: BIN, env: h.env() });
    try {
      const expected = tickets.filter((t) => t.status === 'closed').map((t) => t.id);
      expect(expected.length).toBeGreaterThan(25);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      for (; pages < 40; pages++) {
        const page = ok<TicketPageJson>(
          await c.client.callTool({
            name: 'search_tickets',
            arguments: { status: 'closed', limit: 7, ...(cursor ? { cursor } : {}) },
          }),
        );
        expect(page.total).toBe(expected.length);
        seen.push(...page.tickets.map((t) => t.id));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(pages + 1).toBe(Math.ceil(expected.length / 7));
      expect(seen).toEqual(expected);
    } finally {
      await c.close();
    }
  });

  it('walks list_customer_tickets to the end and filters by status', async () => {
    const c = await connectV1({ bin: BIN, env: h.env() });
    try {
      const counts = new Map<string, number>();
      for (const t of tickets) counts.set(t.customerId, (counts.get(t.customerId) ?? 0) + 1);
      const [customerId, count] = [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 40; page++) {
        const body = ok<TicketPageJson>(
          await c.client.callTool({
            name: 'list_customer_tickets',
            arguments: { customer_id: customerId, limit: 4, ...(cursor ? { cursor } : {}) },
          }),
        );
        seen.push(...body.tickets.map((t) => t.id));
        if (!body.nextCursor) break;
        cursor = body.nextCursor;
      }
      expect(seen).toEqual(tickets.filter((t) => t.customerId === customerId).map((t) => t.id));
      expect(seen).toHaveLength(count);
      const solved = ok<TicketPageJson>(
        await c.client.callTool({
          name: 'list_customer_tickets',
          arguments: { customer_id: customerId, status: 'solved', limit: 25 },
        }),
      );
      expect(solved.tickets.map((t) => t.id)).toEqual(
        tickets.filter((t) => t.customerId === customerId && t.status === 'solved').map((t) => t.id),
      );
    } finally {
      await c.close();
    }
  });

  it('filters by priority, customer and creation date range', async () => {
    const c = await connectV2({ bin: BIN, env: h.env() });
    try {
      const sorted = tickets.map((t) => t.createdAt).sort();
      const after = sorted[100]!;
      const before = sorted[140]!;
      const page = ok<TicketPageJson>(
        await c.client.callTool({
          name: 'search_tickets',
          arguments: { priority: 'high', created_after: after, created_before: before, limit: 25 },
        }),
      );
      const expected = tickets.filter(
        (t) => t.priority === 'high' && t.createdAt >= after && t.createdAt < before,
      );
      expect(page.tickets.map((t) => t.id)).toEqual(expected.map((t) => t.id));
      expect(page.total).toBe(expected.length);
      // A bare calendar date is accepted too.
      const byDate = await c.client.callTool({
        name: 'search_tickets',
        arguments: { created_after: after.slice(0, 10), limit: 1 },
      });
      expect(byDate.isError).toBeFalsy();
      const inverted = await c.client.callTool({
        name: 'search_tickets',
        arguments: { created_after: before, created_before: after },
      });
      expect(errorOf(inverted)).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(errorOf(inverted)?.message).toContain('created_before');
    } finally {
      await c.close();
    }
  });

  it('refuses a cursor replayed with other filters instead of paging a different result set', async () => {
    const c = await connectV2({ bin: BIN, env: h.env() });
    try {
      const first = ok<TicketPageJson>(
        await c.client.callTool({ name: 'search_tickets', arguments: { status: 'closed', limit: 2 } }),
      );
      expect(first.nextCursor).toBeTypeOf('string');
      const mixed = await c.client.callTool({
        name: 'search_tickets',
        arguments: { status: 'open', limit: 2, cursor: first.nextCursor },
      });
      expect(errorOf(mixed)?.code).toBe('INVALID_ARGUMENT');
      const garbage = await c.client.callTool({
        name: 'search_tickets',
        arguments: { cursor: 'not-a-cursor' },
      });
      expect(errorOf(garbage)?.code).toBe('INVALID_ARGUMENT');
    } finally {
      await c.close();
    }
  });
});

describe('long threads', () => {
  it('pages a long thread by bytes with explicit truncation markers, and the cursor continues exactly where it stopped', async () => {
    const env = h.env({ SUPPORT_SCOPES: 'support:read,support:pii' });
    const c = await connectV2({ bin: BIN, env });
    try {
      const pages: LookupJson[] = [];
      let cursor: string | undefined;
      for (let n = 0; n < 60; n++) {
        const result = await c.client.callTool({
          name: 'lookup_ticket',
          arguments: { ticket_id: longThread.id, ...(cursor ? { cursor } : {}) },
        });
        const page = ok<LookupJson>(result);
        pages.push(page);
        // Each page stays within the budget, and the whole result stays under 8 KB.
        const customerBytes = Buffer.byteLength(JSON.stringify([page.body, page.comments]), 'utf8');
        expect(customerBytes).toBeLessThanOrEqual(6_000 + 200);
        expect(Buffer.byteLength(JSON.stringify(result.structuredContent), 'utf8')).toBeLessThan(8_192);
        expect(Buffer.byteLength(textOf(result), 'utf8')).toBeLessThan(8_192);
        if (page.truncated) {
          expect(page.notice).toMatch(/truncated: call again with nextCursor/);
          expect(textOf(result)).toContain('[... truncated: call again with nextCursor to continue ...]');
          expect(textOf(result)).toContain(`cursor="${page.nextCursor}"`);
        } else {
          expect(page.notice).toBeNull();
        }
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(pages.length).toBeGreaterThan(3);
      expect(pages.at(-1)!.truncated).toBe(false);
      // At least one comment was cut mid-text and resumed on the next page.
      expect(pages.some((p) => p.comments.some((x) => x.truncated))).toBe(true);
      expect(pages.some((p) => p.comments[0]?.continued)).toBe(true);

      // Stitching every part back together gives exactly the upstream text (pii scope: nothing masked).
      const stitched = new Map<string, string>();
      let body = '';
      for (const page of pages) {
        if (page.body) body += page.body.content.text;
        for (const x of page.comments) stitched.set(x.id, (stitched.get(x.id) ?? '') + x.content.text);
      }
      expect(body).toBe(longThread.body);
      expect([...stitched.keys()]).toEqual(longThread.comments.map((x) => x.id));
      for (const x of longThread.comments) expect(stitched.get(x.id)).toBe(x.body);
      // The marker is never mixed into the customer's text.
      for (const page of pages)
        for (const x of page.comments) expect(x.content.text).not.toContain('truncated: call again');
    } finally {
      await c.close();
    }
  });

  it('binds the cursor to its ticket and refuses it elsewhere', async () => {
    const c = await connectV2({ bin: BIN, env: h.env() });
    try {
      const first = ok<LookupJson>(
        await c.client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: longThread.id } }),
      );
      expect(first.nextCursor).toBeTypeOf('string');
      const elsewhere = await c.client.callTool({
        name: 'lookup_ticket',
        arguments: { ticket_id: shortTicket.id, cursor: first.nextCursor },
      });
      expect(errorOf(elsewhere)?.code).toBe('INVALID_ARGUMENT');
      expect(errorOf(elsewhere)?.message).toContain(longThread.id);
    } finally {
      await c.close();
    }
  });

  it('keeps default list results under 8 KB', async () => {
    const c = await connectV2({ bin: BIN, env: h.env() });
    try {
      for (const call of [
        { name: 'search_tickets', arguments: {} },
        { name: 'search_tickets', arguments: { query: 'refund charged invoice' } },
        { name: 'list_customer_tickets', arguments: { customer_id: tickets[0]!.customerId } },
      ]) {
        const result = await c.client.callTool(call);
        expect(Buffer.byteLength(JSON.stringify(ok(result)), 'utf8')).toBeLessThan(8_192);
        expect(Buffer.byteLength(textOf(result), 'utf8')).toBeLessThan(8_192);
      }
    } finally {
      await c.close();
    }
  });

  it('reports an unknown ticket or customer as NOT_FOUND', async () => {
    const c = await connectV2({ bin: BIN, env: h.env() });
    try {
      expect(
        errorOf(await c.client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: 'T-99999' } })),
      ).toMatchObject({ code: 'NOT_FOUND', retryable: false });
      expect(
        errorOf(
          await c.client.callTool({ name: 'get_customer_status', arguments: { customer_id: 'cus_nope' } }),
        )?.code,
      ).toBe('NOT_FOUND');
      expect(
        errorOf(
          await c.client.callTool({ name: 'list_customer_tickets', arguments: { customer_id: 'cus_nope' } }),
        )?.code,
      ).toBe('NOT_FOUND');
    } finally {
      await c.close();
    }
  });
});
