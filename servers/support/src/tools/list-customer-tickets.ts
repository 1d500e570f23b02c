import { z } from 'zod';
import { customerId, SCOPES, TicketStatus, tool } from '../context.ts';
import { listItem, TicketPage, ticketPageText, unwrapCursor, viewFor, wrapCursor } from '../present.ts';

export default tool({
  name: 'list_customer_tickets',
  toolset: 'tickets',
  title: "List a customer's tickets",
  description:
    "One customer's tickets, newest first, optionally of one status, as summaries. Pass nextCursor back as cursor.",
  effect: 'read',
  scope: SCOPES.read,
  input: z.object({
    customer_id: customerId,
    status: TicketStatus.optional(),
    limit: z.number().int().min(1).max(25).default(10),
    cursor: z.string().max(512).optional().describe('nextCursor of the previous page.'),
  }),
  output: TicketPage,
  handler: async ({ customer_id, status, limit, cursor }, ctx) => {
    const filters = { customerId: customer_id, status };
    const view = viewFor(ctx.principal);
    const page = await ctx.deps.api.listCustomerTickets(
      customer_id,
      { status, limit, cursor: unwrapCursor(cursor, filters) },
      ctx,
    );
    const tickets = view.final(page.items.map((t) => listItem(t, view)));
    return {
      tickets,
      total: page.total ?? null,
      nextCursor: wrapCursor(page.nextCursor, filters),
    };
  },
  text: (page) => ticketPageText(page, 'Customer tickets'),
});
