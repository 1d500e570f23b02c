import { connectV1, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { ok, rejectsHostileIds, type TicketPageJson, useTickets, walkPages } from '../../test/harness.ts';
import support from '../index.ts';

const fx = useTickets();

describe('pagination', () => {
  it('walks list_customer_tickets to the end and filters by status', () =>
    withClient(connectV1({ server: support, env: fx.h.env() }), async ({ client }) => {
      const { tickets } = fx;
      const counts = new Map<string, number>();
      for (const t of tickets) counts.set(t.customerId, (counts.get(t.customerId) ?? 0) + 1);
      const [customerId, count] = [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
      const pages = await walkPages(
        client,
        'list_customer_tickets',
        { customer_id: customerId, limit: 4 },
        40,
      );
      const seen = pages.flatMap((r) => ok<TicketPageJson>(r).tickets.map((t) => t.id));
      expect(seen).toEqual(tickets.filter((t) => t.customerId === customerId).map((t) => t.id));
      expect(seen).toHaveLength(count);
      const solved = ok<TicketPageJson>(
        await client.callTool({
          name: 'list_customer_tickets',
          arguments: { customer_id: customerId, status: 'solved', limit: 25 },
        }),
      );
      expect(solved.tickets.map((t) => t.id)).toEqual(
        tickets.filter((t) => t.customerId === customerId && t.status === 'solved').map((t) => t.id),
      );
    }));
});

describe('bad input never reaches or changes the upstream path', () => {
  it('list_customer_tickets rejects hostile ids with INVALID_ARGUMENT and sends nothing', () =>
    rejectsHostileIds(fx.h, 'list_customer_tickets', (id) => ({ customer_id: id })));
});
