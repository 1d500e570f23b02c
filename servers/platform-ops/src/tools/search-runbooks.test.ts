import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, expectAllowedCalls, type Harness, startHarness } from '../../test/harness.ts';
import { platformOps } from '../index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe.each(CLIENTS)('search_runbooks over %s', (_label, connect) => {
  it('finds runbooks matching a query', async () => {
    const env = h.env();
    const c = await connect({ server: platformOps, env });
    try {
      const runbooks = await c.client.callTool({
        name: 'search_runbooks',
        arguments: { query: 'latency', limit: 5 },
      });
      expect((runbooks.structuredContent as { results: unknown[] }).results.length).toBeGreaterThan(0);
      expectAllowedCalls(env.PLATFORM_OPS_AUDIT_FILE, ['search_runbooks']);
    } finally {
      await c.close();
    }
  });
});
