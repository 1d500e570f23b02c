import { connectV2, errorOf, readAudit } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, expectAllowedCalls, type Harness, startHarness } from '../../test/harness.ts';
import { platformOps } from '../index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe.each(CLIENTS)('get_service_health over %s', (_label, connect) => {
  it('answers with structured content that matches the text fallback', async () => {
    const env = h.env();
    const c = await connect({ server: platformOps, env });
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
      expectAllowedCalls(env.PLATFORM_OPS_AUDIT_FILE, ['get_service_health']);
    } finally {
      await c.close();
    }
  });
});

describe('bad input', () => {
  it('answers invalid arguments with INVALID_ARGUMENT naming the field, without calling upstream', async () => {
    const env = h.env();
    const c = await connectV2({ server: platformOps, env });
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
      expect((await h.control.requests()).length).toBe(0);
      const audit = readAudit(env.PLATFORM_OPS_AUDIT_FILE);
      expect(audit).toHaveLength(cases.length);
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
    const c = await connectV2({ server: platformOps, env: h.env() });
    try {
      for (const id of ['../../admin', '%2e%2e%2f', '1?delete=true', 'a#b', 'x\r\nX-Evil: 1', '..']) {
        await h.control.clearRequests();
        const result = await c.client.callTool({ name: 'get_service_health', arguments: { service: id } });
        expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
        expect(await h.control.requests()).toHaveLength(0);
      }
    } finally {
      await c.close();
    }
  });

  it('reports an unknown service as NOT_FOUND', async () => {
    const c = await connectV2({ server: platformOps, env: h.env() });
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
