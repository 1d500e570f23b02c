import { apiPath, type Upstream, type UpstreamCallOptions, upstreamPage } from '@gatehouse/core/upstream';
import { z } from 'zod';

/**
 * The platform-ops API as this server uses it. This module is the adapter:
 * point it at a team's real system by changing these calls; the contract is
 * tooling/sandbox/openapi.yaml.
 */
export const Environment = z.enum(['production', 'staging', 'development']);
export type Environment = z.infer<typeof Environment>;

const ServiceSummary = z.object({
  name: z.string(),
  displayName: z.string(),
  tier: z.string(),
  team: z.string(),
});
const ServiceRecord = z.object({
  name: z.string(),
  displayName: z.string(),
  description: z.string(),
  tier: z.string(),
  language: z.string().optional(),
  owner: z.object({
    team: z.string(),
    slack: z.string(),
    onCall: z.object({ primary: z.string(), secondary: z.string(), rotation: z.string() }),
  }),
  repository: z.string(),
  dashboards: z.array(z.object({ name: z.string(), url: z.string() })),
  dependencies: z.array(z.string()),
  environments: z.array(z.string()),
});

export const Health = z.object({
  service: z.string(),
  environment: z.string(),
  status: z.enum(['healthy', 'degraded', 'down']),
  checkedAt: z.string(),
  signals: z.object({
    errorRate: z.number(),
    latencyP99Ms: z.number(),
    availability: z.number(),
    saturation: z.number(),
  }),
  alerts: z.array(
    z.object({
      id: z.string(),
      severity: z.enum(['critical', 'warning', 'info']),
      title: z.string(),
      since: z.string(),
    }),
  ),
});
export type Health = z.infer<typeof Health>;

export const Deploy = z.object({
  id: z.string(),
  service: z.string(),
  environment: z.string(),
  version: z.string(),
  commit: z.string(),
  author: z.string(),
  status: z.enum(['succeeded', 'failed', 'rolled_back', 'in_progress']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  summary: z.string(),
});
export type Deploy = z.infer<typeof Deploy>;

const RunbookHit = z.object({
  id: z.string(),
  title: z.string(),
  service: z.string().nullable(),
  tags: z.array(z.string()),
  summary: z.string(),
  score: z.number(),
});
const Runbook = z.object({
  id: z.string(),
  title: z.string(),
  service: z.string().nullable(),
  tags: z.array(z.string()),
  body: z.string(),
  updatedAt: z.string(),
});

const Rollback = z.object({
  id: z.string(),
  service: z.string(),
  environment: z.string(),
  fromVersion: z.string(),
  toVersion: z.string(),
  status: z.string(),
  reason: z.string(),
  requestedAt: z.string(),
});

/** Built once: zod compiles a parser for each schema object at its first use, so one per request would compile one per request. */
const ServicePage = upstreamPage(ServiceSummary);
const DeployPage = upstreamPage(Deploy);
const RunbookHitPage = upstreamPage(RunbookHit);

export class PlatformOpsApi {
  private readonly http: Upstream;
  constructor(http: Upstream) {
    this.http = http;
  }

  listServices(query: { prefix?: string; limit?: number; cursor?: string }, call: UpstreamCallOptions) {
    return this.http.get('/platform/v1/services', ServicePage, { ...call, query });
  }

  getService(service: string, call: UpstreamCallOptions) {
    return this.http.get(apiPath`/platform/v1/services/${service}`, ServiceRecord, call);
  }

  getHealth(service: string, environment: Environment, call: UpstreamCallOptions) {
    return this.http.get(apiPath`/platform/v1/services/${service}/health`, Health, {
      ...call,
      query: { environment },
    });
  }

  listDeploys(
    service: string,
    query: { environment?: Environment; limit?: number; cursor?: string; since?: string },
    call: UpstreamCallOptions,
  ) {
    return this.http.get(apiPath`/platform/v1/services/${service}/deploys`, DeployPage, { ...call, query });
  }

  searchRunbooks(
    query: { query: string; service?: string; limit?: number; cursor?: string },
    call: UpstreamCallOptions,
  ) {
    return this.http.get('/platform/v1/runbooks', RunbookHitPage, { ...call, query });
  }

  getRunbook(id: string, call: UpstreamCallOptions) {
    return this.http.get(apiPath`/platform/v1/runbooks/${id}`, Runbook, call);
  }

  rollback(
    service: string,
    body: { environment: Environment; targetVersion?: string; reason: string },
    call: UpstreamCallOptions,
  ) {
    return this.http.post(apiPath`/platform/v1/services/${service}/rollbacks`, body, Rollback, call);
  }
}
