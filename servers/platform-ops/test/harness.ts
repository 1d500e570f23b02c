import { resolve } from 'node:path';
import {
  type Connected,
  connectV1,
  connectV2,
  perFile,
  readAudit,
  withClient,
} from '@gatehouse/core/testing';
import { type ServerHarness, startServerHarness } from '@gatehouse/sandbox';
import { describe, expect, it } from 'vitest';
import platformOps from '../src/index.ts';

export const BIN = resolve(import.meta.dirname, '../dist/bin.js');
/** A recognisable upstream token: it must never show up anywhere a client or log reader could see it. */
export const CANARY = 'sbx_ops_CANARY_7f3a9c1e5b2d4086';
export const ALL_SCOPES = 'platform-ops:read,platform-ops:write,platform-ops:prod';

export type Harness = Omit<ServerHarness, 'env'> & {
  env(extra?: Record<string, string>): Record<string, string> & { PLATFORM_OPS_AUDIT_FILE: string };
};

export const startHarness = async (): Promise<Harness> =>
  (await startServerHarness({ domain: 'platform-ops', prefix: 'PLATFORM_OPS', token: CANARY })) as Harness;

/** The harness of one test file: started before its tests, closed after them. */
export const fileHarness = (): Harness => perFile(startHarness);

/** The fault-injection fixture: one read tool and the upstream path it hits. */
export const HEALTH_PATH = '/platform/v1/services/checkout-api/health';
export const HEALTH_CALL = { name: 'get_service_health', arguments: { service: 'checkout-api' } };
/** Both SDK clients: the v2 client (2026-07-28) and the v1 client most hosts still embed. */
const CLIENTS = [
  ['v2', connectV2],
  ['v1', connectV1],
] as const;

/** The client of either SDK, as a test over `CLIENTS` holds it: `withClient<AnyClient, void>(connect(...), ...)`. */
export type AnyClient = Awaited<ReturnType<(typeof CLIENTS)[number][1]>>['client'];

type AuditRecord = ReturnType<typeof readAudit>[number];

const ALLOWED = { event: 'call', decision: 'allowed', outcome: 'ok', upstreamStatus: 200, kind: 'tool' };
const INVALID = { decision: 'invalid', outcome: 'error', errorCode: 'INVALID_ARGUMENT', upstreamCalls: 0 };

function expectEvery(records: AuditRecord[], fields: object): AuditRecord[] {
  for (const record of records) expect(record).toMatchObject(fields);
  return records;
}

/** The audit file holds exactly `names`, in order, each an allowed tool call answered 200 by the upstream. */
function expectAllowedCalls(auditFile: string, names: string[]): void {
  const calls = readAudit(auditFile);
  expect(calls.map((r) => r.name)).toEqual(names);
  expectEvery(calls, ALLOWED);
}

type Call = { name: string; arguments: Record<string, unknown> };
type ToolClient = { callTool(call: Call): Promise<object> };
type Result = Awaited<ReturnType<Awaited<ReturnType<typeof connectV2>>['client']['callTool']>>;

/**
 * Makes `calls` over one v2 connection, handing each result to `check`; then checks that the upstream saw
 * no request and that the audit file holds one call per call, each refused as invalid. Returns the records.
 */
export async function invalidCalls(
  h: Harness,
  calls: Call[],
  check: (result: Result, index: number) => void,
): Promise<AuditRecord[]> {
  const env = h.env();
  const connecting = connectV2({ server: platformOps, env });
  await h.control.clearRequests();
  return withClient(connecting, async ({ client }) => {
    for (const [index, call] of calls.entries()) check(await client.callTool(call), index);
    expect((await h.control.requests()).length).toBe(0);
    const audit = readAudit(env.PLATFORM_OPS_AUDIT_FILE);
    expect(audit).toHaveLength(calls.length);
    return expectEvery(audit, INVALID);
  });
}

/**
 * Over each client: `title` calls one tool with read scopes over a fresh connection, checks that the audit
 * file holds exactly that call, allowed and answered 200, and hands the result to `check`.
 */
export function describeAllowedCall(h: Harness, title: string, call: Call, check: (result: Result) => void) {
  describe.each(CLIENTS)(`${call.name} over %s`, (_label, connect) => {
    it(title, async () => {
      const env = h.env();
      const connecting: Promise<Connected<ToolClient>> = connect({ server: platformOps, env });
      const answer = await withClient(connecting, async ({ client }) => {
        const result = await client.callTool(call);
        expectAllowedCalls(env.PLATFORM_OPS_AUDIT_FILE, [call.name]);
        return result;
      });
      check(answer as Result);
    });
  });
}
