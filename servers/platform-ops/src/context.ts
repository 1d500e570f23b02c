import { definitionsFor, identifier } from '@gatehouse/core';
import type { PlatformOpsApi } from './upstream.ts';

/** What every platform-ops capability receives as `ctx.deps`. */
export interface PlatformOps {
  api: PlatformOpsApi;
}

export const { tool, resourceTemplate, prompt } = definitionsFor<PlatformOps>();

export const SCOPES = {
  read: 'platform-ops:read',
  write: 'platform-ops:write',
  prod: 'platform-ops:prod',
} as const;

export const serviceName = identifier('Service name as in the catalog, e.g. "checkout-api".', 64);
