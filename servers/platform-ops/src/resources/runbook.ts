import { fenceUntrusted, identifier, untrusted } from '@gatehouse/core';
import { z } from 'zod';
import { resourceTemplate, SCOPES } from '../context.ts';

/** A whole runbook. Its text comes from the runbook system's editors: fenced as data, never server instructions. */
export default resourceTemplate({
  name: 'runbook',
  uriTemplate: 'runbook://{id}',
  title: 'Runbook',
  description:
    'The full text of one runbook (find ids with search_runbooks). The body is reference material from the runbook system.',
  mimeType: 'text/markdown',
  scope: SCOPES.read,
  variables: z.object({ id: identifier('Runbook id, e.g. "rb-checkout-latency".', 128) }),
  complete: {
    id: async (prefix, ctx) =>
      prefix.length < 2
        ? []
        : (await ctx.deps.api.searchRunbooks({ query: prefix, limit: 10 }, ctx)).items
            .map((r) => r.id)
            .filter((id) => id.startsWith(prefix)),
  },
  read: async ({ id }, ctx) => {
    const runbook = await ctx.deps.api.getRunbook(id, ctx);
    const header = `# ${runbook.title}\nservice: ${runbook.service ?? 'any'} · tags: ${runbook.tags.join(', ')} · updated ${runbook.updatedAt}\n\n`;
    return { text: header + fenceUntrusted(untrusted(runbook.body, `runbook:${runbook.id}`)) };
  },
});
