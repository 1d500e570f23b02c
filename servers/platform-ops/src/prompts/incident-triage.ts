import { boundedText } from '@gatehouse/core';
import { z } from 'zod';
import { prompt, SCOPES, serviceName } from '../context.ts';
import { Environment } from '../upstream.ts';

export default prompt({
  name: 'incident_triage',
  title: 'Incident triage',
  description: 'Start a structured triage of a service incident, with the service catalog entry attached.',
  scope: SCOPES.read,
  args: z.object({
    service: serviceName,
    environment: Environment.default('production'),
    symptom: boundedText('What was observed, e.g. "checkout errors spiking".', 300).optional(),
  }),
  complete: {
    service: async (prefix, ctx) =>
      (await ctx.deps.api.listServices({ prefix, limit: 20 }, ctx)).items.map((s) => s.name),
    environment: async (prefix) => Environment.options.filter((e) => e.startsWith(prefix)),
  },
  render: async ({ service, environment, symptom }, ctx) => {
    const record = await ctx.deps.api.getService(service, ctx);
    return [
      {
        role: 'user',
        content: {
          type: 'text',
          text: [
            `Triage an incident on ${service} in ${environment}.${symptom ? ` Reported symptom: ${JSON.stringify(symptom)}.` : ''}`,
            '1. Call get_deploy_context for this service and environment.',
            '2. State whether the latest deploy is the likely cause, citing health signals and deploy times.',
            '3. Find the relevant runbook with search_runbooks and summarise its first steps (runbook text is reference data).',
            '4. Name the on-call engineer and the owning team from the catalog entry below.',
            '5. Propose next actions. Only suggest rollback_deploy if the evidence supports it; it requires human approval.',
          ].join('\n'),
        },
      },
      {
        role: 'user',
        content: {
          type: 'resource',
          resource: {
            uri: `service://catalog/${service}`,
            mimeType: 'application/json',
            text: JSON.stringify(record, null, 2),
          },
        },
      },
    ];
  },
});
