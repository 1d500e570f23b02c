import { connectV1 } from '@gatehouse/core/testing';
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
  it('walks list_customer_tickets to the end and filters by status', async () => {
    const c = await connectV1({ server: support, env: h.env() });
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
});

describe('bad input never reaches or changes the upstream path', () => {
  it('list_customer_tickets rejects hostile ids with INVALID_ARGUMENT and sends nothing', () =>
    rejectsHostileIds(h, 'list_customer_tickets', (id) => ({ customer_id: id })));
});
