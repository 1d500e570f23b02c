import { connectV2, errorOf, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { ok, rejectsHostileIds, type TicketPageJson, useTickets, walkPages } from '../../test/harness.ts';
import support from '../index.ts';

const fx = useTickets();
const connect = () => connectV2({ server: support, env: fx.h.env() });

describe('pagination', () => {
  it('walks search_tickets to the end: every matching ticket once, in upstream order', () =>
    withClient(connect(), async ({ client }) => {
      const expected = fx.tickets.filter((t) => t.status === 'closed').map((t) => t.id);
      expect(expected.length).toBeGreaterThan(25);
      const pages = (await walkPages(client, 'search_tickets', { status: 'closed', limit: 7 }, 40)).map((r) =>
        ok<TicketPageJson>(r),
      );
      for (const page of pages) expect(page.total).toBe(expected.length);
      expect(pages.length).toBe(Math.ceil(expected.length / 7));
      expect(pages.flatMap((page) => page.tickets.map((t) => t.id))).toEqual(expected);
    }));

  it('filters by priority, customer and creation date range', () =>
    withClient(connect(), async ({ client }) => {
      const { tickets } = fx;
      const sorted = tickets.map((t) => t.createdAt).sort();
      const after = sorted[100]!;
      const before = sorted[140]!;
      const page = ok<TicketPageJson>(
        await client.callTool({
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
      const byDate = await client.callTool({
        name: 'search_tickets',
        arguments: { created_after: after.slice(0, 10), limit: 1 },
      });
      expect(byDate.isError).toBeFalsy();
      const inverted = await client.callTool({
        name: 'search_tickets',
        arguments: { created_after: before, created_before: after },
      });
      expect(errorOf(inverted)).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(errorOf(inverted)?.message).toContain('created_before');
    }));
});

describe('bad input never reaches or changes the upstream path', () => {
  it('search_tickets rejects hostile ids with INVALID_ARGUMENT and sends nothing', () =>
    rejectsHostileIds(fx.h, 'search_tickets', (id) => ({ customer_id: id })));

  it('sends free-text search as one encoded query parameter, never as path or extra parameters', () =>
    withClient(connect(), async ({ client }) => {
      const { h } = fx;
      const query = 'refund&status=closed?x=../../admin#frag%2e%2e\r\nX-Evil: 1';
      await h.control.clearRequests();
      const result = await client.callTool({ name: 'search_tickets', arguments: { query, limit: 3 } });
      expect(result.isError).toBeFalsy();
      const seen = await h.control.requests();
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({
        method: 'GET',
        path: '/support/v1/tickets',
        query: { query, limit: '3' },
      });
      expect(Object.keys(seen[0]!.query).sort()).toEqual(['limit', 'query']);
    }));
});
