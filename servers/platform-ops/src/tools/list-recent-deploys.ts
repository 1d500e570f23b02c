import { pageInput } from '@gatehouse/core';
import { z } from 'zod';
import { SCOPES, serviceName, tool } from '../context.ts';
import { Deploy, Environment } from '../upstream.ts';

export default tool({
  name: 'list_recent_deploys',
  toolset: 'deploys',
  title: 'Recent deploys',
  description:
    'Deploy history of one service, newest first: version, commit, author, status (succeeded/failed/rolled_back/in_progress) and summary. Optionally one environment and only the last N days. Paginated: pass nextCursor back as cursor.',
  effect: 'read',
  scope: SCOPES.read,
  input: z.object({
    service: serviceName,
    environment: Environment.optional().describe('Only this environment (all when omitted).'),
    since_days: z
      .number()
      .int()
      .min(1)
      .max(90)
      .optional()
      .describe('Only deploys started in the last N days.'),
    limit: pageInput.limit.default(10),
    cursor: pageInput.cursor,
  }),
  output: z.object({ service: z.string(), deploys: z.array(Deploy), nextCursor: z.string().nullable() }),
  handler: async ({ service, environment, since_days, limit, cursor }, ctx) => {
    const since =
      since_days === undefined ? undefined : new Date(Date.now() - since_days * 86_400_000).toISOString();
    const page = await ctx.deps.api.listDeploys(service, { environment, limit, cursor, since }, ctx);
    return { service, deploys: page.items, nextCursor: page.nextCursor };
  },
});
