import { z } from 'zod';
import { prompt, SCOPES, serviceName } from '../context.ts';
import { Environment } from '../upstream.ts';

export default prompt({
  name: 'deploy_review',
  title: 'Deploy review',
  description: 'Review the recent deploys of a service in one environment, with the deploy history attached.',
  scope: SCOPES.read,
  args: z.object({ service: serviceName, environment: Environment.default('production') }),
  complete: {
    service: async (prefix, ctx) =>
      (await ctx.deps.api.listServices({ prefix, limit: 20 }, ctx)).items.map((s) => s.name),
    environment: async (prefix) => Environment.options.filter((e) => e.startsWith(prefix)),
  },
  render: async ({ service, environment }, ctx) => {
    const deploys = await ctx.deps.api.listDeploys(service, { environment, limit: 10 }, ctx);
    return [
      {
        role: 'user',
        content: {
          type: 'text',
          text: `Review the last deploys of ${service} in ${environment} (attached). For each failed or rolled-back deploy, say what changed and whether a follow-up is needed; then judge whether the current version is safe, using get_service_health for evidence.`,
        },
      },
      {
        role: 'user',
        content: {
          type: 'resource',
          resource: {
            uri: `deploys://${service}/${environment}`,
            mimeType: 'application/json',
            text: JSON.stringify(deploys.items, null, 2),
          },
        },
      },
    ];
  },
});
