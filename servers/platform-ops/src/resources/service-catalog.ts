import { z } from 'zod';
import { resourceTemplate, SCOPES, serviceName } from '../context.ts';

/** One service's catalog entry; names complete from the catalog as the user types. */
export default resourceTemplate({
  name: 'service-catalog-entry',
  uriTemplate: 'service://catalog/{service}',
  title: 'Service catalog entry',
  description: 'Owner, on-call rotation, tier, repository, dashboards and dependencies of one service.',
  mimeType: 'application/json',
  scope: SCOPES.read,
  variables: z.object({ service: serviceName }),
  complete: {
    service: async (prefix, ctx) =>
      (await ctx.deps.api.listServices({ prefix, limit: 20 }, ctx)).items.map((s) => s.name),
  },
  list: async (ctx) =>
    (await ctx.deps.api.listServices({ limit: 50 }, ctx)).items.map((s) => ({
      uri: `service://catalog/${s.name}`,
      name: s.name,
      title: s.displayName,
    })),
  read: async ({ service }, ctx) => ({
    text: JSON.stringify(await ctx.deps.api.getService(service, ctx), null, 2),
  }),
});
