import { boundedText } from '@gatehouse/core';
import { z } from 'zod';
import { SCOPES, serviceName, tool } from '../context.ts';
import { Environment } from '../upstream.ts';

export default tool({
  name: 'rollback_deploy',
  toolset: 'actions',
  title: 'Roll back a deploy',
  description:
    'Roll a service in one environment back to its previous good version (or a named one). Destructive: a human approves every call, production needs the platform-ops:prod scope, and each approval runs at most once.',
  effect: 'destructive',
  approval: 'human',
  scope: SCOPES.write,
  extraScopes: ({ environment }) => (environment === 'production' ? [SCOPES.prod] : []),
  input: z.object({
    service: serviceName,
    environment: Environment.describe('Environment to roll back.'),
    target_version: z
      .string()
      .regex(/^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]{1,40})?$/, 'a semantic version such as 1.42.0')
      .optional()
      .describe('Version to return to; the previous successful deploy when omitted.'),
    reason: boundedText(
      'Why the rollback is needed; shown to the approver and kept in the audit trail.',
      500,
    ).pipe(z.string().min(10)),
  }),
  output: z.object({
    rollbackId: z.string(),
    service: z.string(),
    environment: z.string(),
    fromVersion: z.string(),
    toVersion: z.string(),
    status: z.string(),
    requestedAt: z.string(),
  }),
  target: ({ service, environment }) => ({ target: service, environment }),
  handler: async ({ service, environment, target_version, reason }, ctx) => {
    const r = await ctx.deps.api.rollback(
      service,
      { environment, reason, ...(target_version ? { targetVersion: target_version } : {}) },
      ctx,
    );
    return {
      rollbackId: r.id,
      service: r.service,
      environment: r.environment,
      fromVersion: r.fromVersion,
      toVersion: r.toVersion,
      status: r.status,
      requestedAt: r.requestedAt,
    };
  },
  text: (r) =>
    `Rollback ${r.rollbackId} ${r.status}: ${r.service} (${r.environment}) ${r.fromVersion} → ${r.toVersion}.`,
});
