import { connectV1, connectV2, errorOf, readAudit } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe.each([
  ['v2', connectV2],
  ['v1', connectV1],
] as const)('read tools over %s', (_label, connect) => {
  it('answers every read tool with structured content that matches the text fallback', async () => {
    const env = h.env();
    const c = await connect({ bin: BIN, env });
    try {
      const health = await c.client.callTool({
        name: 'get_service_health',
        arguments: { service: 'checkout-api', environment: 'staging' },
      });
      expect(health.isError).toBeFalsy();
      expect(health.structuredContent).toMatchObject({
        service: 'checkout-api',
        environment: 'staging',
        status: expect.stringMatching(/healthy|degraded|down/),
      });
      expect((health.content as Array<{ text: string }>)[0]!.text).toContain('checkout-api (staging)');

      const deploys = await c.client.callTool({
        name: 'list_recent_deploys',
        arguments: { service: 'checkout-api', environment: 'production', limit: 3 },
      });
      const page = deploys.structuredContent as {
        deploys: Array<{ environment: string; startedAt: string }>;
        nextCursor: string | null;
      };
      expect(page.deploys).toHaveLength(3);
      expect(page.deploys.every((d) => d.environment === 'production')).toBe(true);
      expect(page.nextCursor).toBeTypeOf('string');

      const runbooks = await c.client.callTool({
        name: 'search_runbooks',
        arguments: { query: 'latency', limit: 5 },
      });
      expect((runbooks.structuredContent as { results: unknown[] }).results.length).toBeGreaterThan(0);

      const context = await c.client.callTool({
        name: 'get_deploy_context',
        arguments: { service: 'checkout-api', deploys: 2 },
      });
      expect(context.structuredContent).toMatchObject({
        service: { name: 'checkout-api', onCall: { primary: expect.any(String) } },
        environment: 'production',
        health: { status: expect.any(String) },
        unavailable: [],
      });
      expect((context.structuredContent as { recentDeploys: unknown[] }).recentDeploys).toHaveLength(2);

      const calls = readAudit(env.PLATFORM_OPS_AUDIT_FILE);
      expect(calls.map((r) => r.name)).toEqual([
        'get_service_health',
        'list_recent_deploys',
        'search_runbooks',
        'get_deploy_context',
      ]);
      for (const record of calls)
        expect(record).toMatchObject({
          event: 'call',
          decision: 'allowed',
          outcome: 'ok',
          upstreamStatus: 200,
          kind: 'tool',
        });
    } finally {
      await c.close();
    }
  });
});

describe('pagination', () => {
  it('walks list_recent_deploys to the end without repeats', async () => {
    const c = await connectV2({ bin: BIN, env: h.env() });
    try {
      const seen = new Set<string>();
      let cursor: string | undefined;
      for (let page = 0; page < 50; page++) {
        const result = await c.client.callTool({
          name: 'list_recent_deploys',
          arguments: { service: 'search-indexer', limit: 7, ...(cursor ? { cursor } : {}) },
        });
        const body = result.structuredContent as {
          deploys: Array<{ id: string }>;
          nextCursor: string | null;
        };
        for (const d of body.deploys) {
          expect(seen.has(d.id)).toBe(false);
          seen.add(d.id);
        }
        if (!body.nextCursor) break;
        cursor = body.nextCursor;
      }
      expect(cursor).toBeDefined();
      expect(seen.size).toBeGreaterThan(7 * 3);
    } finally {
      await c.close();
    }
  });
});

describe('bad input', () => {
  it('answers invalid arguments with INVALID_ARGUMENT naming the field, without calling upstream', async () => {
    const env = h.env();
    const c = await connectV2({ bin: BIN, env });
    await h.control.clearRequests();
    try {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{}, /service/],
        [{ service: 42 }, /service/],
        [{ service: 'checkout-api', environment: 'moon' }, /environment/],
        [{ service: 'x'.repeat(1_000_000) }, /service/],
        [{ service: 'checkout\u0000api' }, /service/],
        [{ service: 'checkout-api\u202e' }, /service/],
      ];
      for (const [args, field] of cases) {
        const result = await c.client.callTool({ name: 'get_service_health', arguments: args });
        const error = errorOf(result);
        expect(error?.code).toBe('INVALID_ARGUMENT');
        expect(error?.message).toMatch(field);
      }
      const limit = await c.client.callTool({
        name: 'list_recent_deploys',
        arguments: { service: 'checkout-api', limit: 10_000 },
      });
      expect(errorOf(limit)?.code).toBe('INVALID_ARGUMENT');
      expect((await h.control.requests()).length).toBe(0);
      const audit = readAudit(env.PLATFORM_OPS_AUDIT_FILE);
      expect(audit).toHaveLength(cases.length + 1);
      for (const record of audit)
        expect(record).toMatchObject({
          decision: 'invalid',
          outcome: 'error',
          errorCode: 'INVALID_ARGUMENT',
          upstreamCalls: 0,
        });
      // A 1 MB argument is not copied into the audit trail.
      expect(JSON.stringify(audit[3]).length).toBeLessThan(4_000);
    } finally {
      await c.close();
    }
  });

  it('never lets an id change the upstream path', async () => {
    const c = await connectV2({ bin: BIN, env: h.env() });
    try {
      for (const id of ['../../admin', '%2e%2e%2f', '1?delete=true', 'a#b', 'x\r\nX-Evil: 1', '..']) {
        await h.control.clearRequests();
        const result = await c.client.callTool({ name: 'get_service_health', arguments: { service: id } });
        expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
        expect(await h.control.requests()).toHaveLength(0);
      }
      // Resource ids go through the same encoding: an unknown runbook is a clean NOT_FOUND on the runbooks path.
      await h.control.clearRequests();
      await expect(c.client.readResource({ uri: 'runbook://rb-..-admin' })).rejects.toThrow(/NOT_FOUND/);
      const seen = await h.control.requests();
      expect(seen.map((r) => r.path)).toEqual(['/platform/v1/runbooks/rb-..-admin']);
    } finally {
      await c.close();
    }
  });

  it('reports an unknown service as NOT_FOUND', async () => {
    const c = await connectV2({ bin: BIN, env: h.env() });
    try {
      const result = await c.client.callTool({
        name: 'get_service_health',
        arguments: { service: 'no-such-service' },
      });
      expect(errorOf(result)).toMatchObject({ code: 'NOT_FOUND', retryable: false });
    } finally {
      await c.close();
    }
  });
});
