import { connectV2, errorOf } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allTickets,
  type Harness,
  ok,
  rejectsHostileIds,
  startHarness,
  type TicketPageJson,
  type TicketSummaryJson,
} from '../../test/harness.ts';
import support from '../index.ts';

let h: Harness;
let tickets: TicketSummaryJson[];
beforeAll(async () => {
  h = await startHarness();
  tickets = await allTickets(h);
}, 60_000);
afterAll(() => h.close());

describe('pagination', () => {
  it('walks search_tickets to the end: every matching ticket once, in upstream order', async () => {
    const c = await connectV2({ server: support, env: h.env() });
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

  it('filters by priority, customer and creation date range', async () => {
    const c = await connectV2({ server: support, env: h.env() });
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
});

describe('bad input never reaches or changes the upstream path', () => {
  it('search_tickets rejects hostile ids with INVALID_ARGUMENT and sends nothing', () =>
    rejectsHostileIds(h, 'search_tickets', (id) => ({ customer_id: id })));

  it('sends free-text search as one encoded query parameter, never as path or extra parameters', async () => {
    const c = await connectV2({ server: support, env: h.env() });
    try {
      const query = 'refund&status=closed?x=../../admin#frag%2e%2e\r\nX-Evil: 1';
      await h.control.clearRequests();
      const result = await c.client.callTool({ name: 'search_tickets', arguments: { query, limit: 3 } });
      expect(result.isError).toBeFalsy();
      const seen = await h.control.requests();
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({
        method: 'GET',
        path: '/support/v1/tickets',
        query: { query, limit: '3' },
      });
      expect(Object.keys(seen[0]!.query).sort()).toEqual(['limit', 'query']);
    } finally {
      await c.close();
    }
  });
});
