import { z } from 'zod';
import { SCOPES, tool } from '../context.ts';
import { AdrListInput, DocRef, Unavailable } from '../schemas.ts';

export default tool({
  name: 'list_adrs',
  toolset: 'adrs',
  title: 'List ADRs',
  description:
    'The architecture decision log from both sources, ordered by ADR number (local before wiki on equal numbers), optionally only one status. Use it to see what was decided, what is proposed, and what was superseded; read one with get_document.',
  effect: 'read',
  scope: SCOPES.read,
  input: AdrListInput,
  output: z.object({
    adrs: z.array(DocRef),
    total: z.number().int(),
    nextCursor: z.string().nullable(),
    unavailable: Unavailable,
  }),
  handler: (args, ctx) => ctx.deps.library.listAdrs(args, ctx),
  text: (out) =>
    [
      `${out.adrs.length} of ${out.total} ADR(s):`,
      ...out.adrs.map(
        (a) =>
          `${a.number ?? '—'} · ${a.title} · ${a.status ?? 'no status'} · ${a.date ?? ''} · [${a.source}] ${a.id}`,
      ),
      out.nextCursor ? `nextCursor: ${out.nextCursor}` : '',
    ]
      .filter(Boolean)
      .join('\n'),
});
