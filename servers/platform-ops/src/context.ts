import { definitionsFor, identifier } from '@gatehouse/core';
import type { PlatformOpsApi } from './upstream.ts';

/** What every platform-ops capability receives as `ctx.deps`. */
export interface PlatformOps {
  api: PlatformOpsApi;
}

/** The platform-ops toolsets: a connection may narrow itself to some (X-Gatehouse-Toolsets, PLATFORM_OPS_TOOLSETS). */
export const TOOLSETS = {
  health: 'service health and active alerts',
  deploys: 'recent deploys and what changed in them',
  runbooks: 'runbook search',
  actions: 'side-effecting actions (rollbacks), each approved by a human',
} as const;

export const { tool, resourceTemplate, prompt } = definitionsFor<PlatformOps, keyof typeof TOOLSETS>();

export const SCOPES = {
  read: 'platform-ops:read',
  write: 'platform-ops:write',
  prod: 'platform-ops:prod',
} as const;

export const serviceName = identifier('Service name as in the catalog, e.g. "checkout-api".', 64);
