import { resolve } from 'node:path';
import { connectV1, connectV2, readAudit } from '@gatehouse/core/testing';
import { type ServerHarness, startServerHarness } from '@gatehouse/sandbox';
import { expect } from 'vitest';

export const BIN = resolve(import.meta.dirname, '../dist/bin.js');
/** A recognisable upstream token: it must never show up anywhere a client or log reader could see it. */
export const CANARY = 'sbx_ops_CANARY_7f3a9c1e5b2d4086';
export const ALL_SCOPES = 'platform-ops:read,platform-ops:write,platform-ops:prod';

export type Harness = Omit<ServerHarness, 'env'> & {
  env(extra?: Record<string, string>): Record<string, string> & { PLATFORM_OPS_AUDIT_FILE: string };
};

export const startHarness = async (): Promise<Harness> =>
  (await startServerHarness({ domain: 'platform-ops', prefix: 'PLATFORM_OPS', token: CANARY })) as Harness;

/** The fault-injection fixture: one read tool and the upstream path it hits. */
export const HEALTH_PATH = '/platform/v1/services/checkout-api/health';
export const HEALTH_CALL = { name: 'get_service_health', arguments: { service: 'checkout-api' } };
/** Short upstream timings so failure tests finish quickly. */
export const FAST = {
  PLATFORM_OPS_TIMEOUT_MS: '400',
  PLATFORM_OPS_DEADLINE_MS: '1500',
  PLATFORM_OPS_RETRIES: '2',
};

/** Requests the sandbox saw on the fixture's path. */
export async function healthRequests(h: Pick<Harness, 'control'>) {
  return (await h.control.requests()).filter((r) => r.path === HEALTH_PATH);
}

/** Both SDK clients: the v2 client (2026-07-28) and the v1 client most hosts still embed. */
export const CLIENTS = [
  ['v2', connectV2],
  ['v1', connectV1],
] as const;

/** The audit file holds exactly `names`, in order, each an allowed tool call answered 200 by the upstream. */
export function expectAllowedCalls(auditFile: string, names: string[]): void {
  const calls = readAudit(auditFile);
  expect(calls.map((r) => r.name)).toEqual(names);
  for (const record of calls)
    expect(record).toMatchObject({
      event: 'call',
      decision: 'allowed',
      outcome: 'ok',
      upstreamStatus: 200,
      kind: 'tool',
    });
}
