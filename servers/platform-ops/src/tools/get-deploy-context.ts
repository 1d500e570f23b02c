import { GatehouseError, stripHidden } from '@gatehouse/core';
import { z } from 'zod';
import { SCOPES, serviceName, tool } from '../context.ts';
import { Deploy, Environment, Health } from '../upstream.ts';

/**
 * One call for the question "is it the deploy?": service facts, current
 * health, recent deploys and matching runbooks. Parts that fail are reported
 * in `unavailable` rather than failing the whole answer.
 */
export default tool({
  name: 'get_deploy_context',
  toolset: 'deploys',
  title: 'Deploy context',
  description:
    'Everything needed to judge a recent deploy of one service in one environment, in one result: owner and on-call, current health, the last deploys, and runbooks that match. Parts the upstream could not provide are listed in "unavailable".',
  effect: 'read',
  scope: SCOPES.read,
  input: z.object({
    service: serviceName,
    environment: Environment.default('production'),
    deploys: z.number().int().min(1).max(20).default(5).describe('How many recent deploys to include.'),
  }),
  output: z.object({
    service: z.object({
      name: z.string(),
      displayName: z.string(),
      tier: z.string(),
      team: z.string(),
      onCall: z.object({ primary: z.string(), secondary: z.string() }),
    }),
    environment: Environment,
    health: Health.nullable(),
    recentDeploys: z.array(Deploy),
    runbooks: z.array(z.object({ id: z.string(), title: z.string(), uri: z.string() })),
    unavailable: z.array(z.object({ part: z.string(), code: z.string() })),
  }),
  handler: async ({ service, environment, deploys }, ctx) => {
    const { api } = ctx.deps;
    // The service record decides whether the service exists at all, so it is not optional.
    const [record, health, history, runbooks] = await Promise.allSettled([
      api.getService(service, ctx),
      api.getHealth(service, environment, ctx),
      api.listDeploys(service, { environment, limit: deploys }, ctx),
      api.searchRunbooks({ query: service, service, limit: 5 }, ctx),
    ]);
    if (record.status === 'rejected') throw record.reason;
    const unavailable: Array<{ part: string; code: string }> = [];
    const settle = <T>(part: string, result: PromiseSettledResult<T>): T | undefined => {
      if (result.status === 'fulfilled') return result.value;
      if (ctx.signal.aborted) throw result.reason;
      unavailable.push({
        part,
        code: result.reason instanceof GatehouseError ? result.reason.code : 'INTERNAL',
      });
      return undefined;
    };
    const s = record.value;
    return {
      service: {
        name: s.name,
        displayName: s.displayName,
        tier: s.tier,
        team: s.owner.team,
        onCall: { primary: s.owner.onCall.primary, secondary: s.owner.onCall.secondary },
      },
      environment,
      health: settle('health', health) ?? null,
      recentDeploys: settle('deploys', history)?.items ?? [],
      runbooks: (settle('runbooks', runbooks)?.items ?? []).map((r) => ({
        id: r.id,
        title: stripHidden(r.title),
        uri: `runbook://${encodeURIComponent(r.id)}`,
      })),
      unavailable,
    };
  },
});
