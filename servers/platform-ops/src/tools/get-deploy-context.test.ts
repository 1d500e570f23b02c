import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, expectAllowedCalls, type Harness, startHarness } from '../../test/harness.ts';
import { platformOps } from '../index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe.each(CLIENTS)('get_deploy_context over %s', (_label, connect) => {
  it('gathers service, on-call, health and the recent deploys in one answer', async () => {
    const env = h.env();
    const c = await connect({ server: platformOps, env });
    try {
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
      expectAllowedCalls(env.PLATFORM_OPS_AUDIT_FILE, ['get_deploy_context']);
    } finally {
      await c.close();
    }
  });
});
