import { connectV2, errorOf, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { describeAllowedCall, fileHarness, invalidCalls } from '../../test/harness.ts';
import platformOps from '../index.ts';

const h = fileHarness();

describeAllowedCall(
  h,
  'answers with structured content that matches the text fallback',
  { name: 'get_service_health', arguments: { service: 'checkout-api', environment: 'staging' } },
  (health) => {
    expect(health.isError).toBeFalsy();
    expect(health.structuredContent).toMatchObject({
      service: 'checkout-api',
      environment: 'staging',
      status: expect.stringMatching(/healthy|degraded|down/),
    });
    expect((health.content as Array<{ text: string }>)[0]!.text).toContain('checkout-api (staging)');
  },
);

describe('bad input', () => {
  it('answers invalid arguments with INVALID_ARGUMENT naming the field, without calling upstream', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{}, /service/],
      [{ service: 42 }, /service/],
      [{ service: 'checkout-api', environment: 'moon' }, /environment/],
      [{ service: 'x'.repeat(1_000_000) }, /service/],
      [{ service: 'checkout\u0000api' }, /service/],
      [{ service: 'checkout-api\u202e' }, /service/],
    ];
    const calls = cases.map(([args]) => ({ name: 'get_service_health', arguments: args }));
    const audit = await invalidCalls(h, calls, (result, i) => {
      const error = errorOf(result);
      expect(error?.code).toBe('INVALID_ARGUMENT');
      expect(error?.message).toMatch(cases[i]![1]);
    });
    // A 1 MB argument is not copied into the audit trail.
    expect(JSON.stringify(audit[3]).length).toBeLessThan(4_000);
  });

  it('never lets an id change the upstream path', async () => {
    await withClient(connectV2({ server: platformOps, env: h.env() }), async ({ client }) => {
      for (const id of ['../../admin', '%2e%2e%2f', '1?delete=true', 'a#b', 'x\r\nX-Evil: 1', '..']) {
        await h.control.clearRequests();
        const result = await client.callTool({ name: 'get_service_health', arguments: { service: id } });
        expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
        expect(await h.control.requests()).toHaveLength(0);
      }
    });
  });

  it('reports an unknown service as NOT_FOUND', async () => {
    await withClient(connectV2({ server: platformOps, env: h.env() }), async ({ client }) => {
      const result = await client.callTool({
        name: 'get_service_health',
        arguments: { service: 'no-such-service' },
      });
      expect(errorOf(result)).toMatchObject({ code: 'NOT_FOUND', retryable: false });
    });
  });
});
