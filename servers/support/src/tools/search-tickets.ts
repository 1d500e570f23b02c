import { boundedText, invalidArgument } from '@gatehouse/core';
import { z } from 'zod';
import { customerId, SCOPES, TicketPriority, TicketStatus, tool } from '../context.ts';
import { listItem, TicketPage, ticketPageText, unwrapCursor, viewFor, wrapCursor } from '../present.ts';

/** A calendar date (midnight UTC) or an ISO-8601 timestamp with Z or an offset. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const instant = (description: string) =>
  z
    .string()
    .max(40)
    .refine(
      (value) => ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value)),
      'expected a date such as "2026-07-01" or a timestamp such as "2026-07-01T09:00:00Z"',
    )
    .describe(description)
    .transform((value) => new Date(value.length === 10 ? `${value}T00:00:00Z` : value).toISOString());

export default tool({
  name: 'search_tickets',
  toolset: 'tickets',
  title: 'Search tickets',
  description:
    'Find tickets by words and/or status, priority, customer, creation dates. Summaries only; lookup_ticket opens one. Pass nextCursor back as cursor with the same filters.',
  effect: 'read',
  scope: SCOPES.read,
  input: z
    .object({
      query: boundedText('Words to look for, e.g. "double charged refund".', 200).optional(),
      status: TicketStatus.optional(),
      priority: TicketPriority.optional(),
      customer_id: customerId.optional(),
      created_after: instant('Created at or after, e.g. "2026-07-01".').optional(),
      created_before: instant('Created before this date/time.').optional(),
      limit: z.number().int().min(1).max(25).default(10),
      cursor: z.string().max(512).optional().describe('nextCursor of the previous page.'),
    })
    .refine((a) => !a.created_after || !a.created_before || a.created_after < a.created_before, {
      message: 'created_after must be earlier than created_before',
      path: ['created_before'],
    }),
  output: TicketPage,
  handler: async (
    { query, status, priority, customer_id, created_after, created_before, limit, cursor },
    ctx,
  ) => {
    const filters = {
      query: query?.trim() || undefined,
      status,
      priority,
      customerId: customer_id,
      createdAfter: created_after,
      createdBefore: created_before,
    };
    if (filters.query !== undefined && !/[\p{L}\p{N}]/u.test(filters.query))
      throw invalidArgument('query must contain at least one letter or digit.');
    const view = viewFor(ctx.principal);
    const page = await ctx.deps.api.listTickets(
      { ...filters, limit, cursor: unwrapCursor(cursor, filters) },
      ctx,
    );
    const tickets = view.final(page.items.map((t) => listItem(t, view)));
    return { tickets, total: page.total ?? null, nextCursor: wrapCursor(page.nextCursor, filters) };
  },
  text: (page) => ticketPageText(page, 'Search results'),
});
