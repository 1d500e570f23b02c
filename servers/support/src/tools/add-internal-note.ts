import { boundedText } from '@gatehouse/core';
import { z } from 'zod';
import { SCOPES, ticketId, tool } from '../context.ts';
import { viewFor } from '../present.ts';

export default tool({
  name: 'add_internal_note',
  toolset: 'actions',
  title: 'Add an internal note',
  description:
    'Add an internal, agent-only note to a ticket (findings, next steps). Customers never see it; the ticket is otherwise unchanged.',
  effect: 'write',
  approval: 'none',
  scope: SCOPES.write,
  input: z.object({
    ticket_id: ticketId,
    note: boundedText('The note, plain text (1-5000 characters).', 5_000).pipe(z.string().trim().min(1)),
  }),
  output: z.object({
    noteId: z.string(),
    ticketId: z.string(),
    author: z.string(),
    internal: z.boolean(),
    note: z.string(),
    createdAt: z.string(),
  }),
  target: ({ ticket_id }) => ({ target: `ticket ${ticket_id}` }),
  handler: async ({ ticket_id, note }, ctx) => {
    const view = viewFor(ctx.principal);
    const created = await ctx.deps.api.addNote(
      ticket_id,
      { body: note, author: `Gatehouse (${ctx.principal.id})` },
      ctx,
    );
    return view.final({
      noteId: created.id,
      ticketId: ticket_id,
      author: created.author,
      internal: created.internal,
      note: view.text(created.body),
      createdAt: created.createdAt,
    });
  },
  text: (r) => `Internal note ${r.noteId} added to ${r.ticketId} by ${r.author} at ${r.createdAt}.`,
});
