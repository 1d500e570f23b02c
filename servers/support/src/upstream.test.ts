/** The adapter's answers for what the upstream does not have. */
import { connectV2, errorOf } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test/harness.ts';
import support from './index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(() => h.close());

describe('the upstream adapter', () => {
  it('reports an unknown ticket or customer as NOT_FOUND', async () => {
    const c = await connectV2({ server: support, env: h.env() });
    try {
      expect(
        errorOf(await c.client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: 'T-99999' } })),
      ).toMatchObject({ code: 'NOT_FOUND', retryable: false });
      expect(
        errorOf(
          await c.client.callTool({ name: 'get_customer_status', arguments: { customer_id: 'cus_nope' } }),
        )?.code,
      ).toBe('NOT_FOUND');
      expect(
        errorOf(
          await c.client.callTool({ name: 'list_customer_tickets', arguments: { customer_id: 'cus_nope' } }),
        )?.code,
      ).toBe('NOT_FOUND');
    } finally {
      await c.close();
    }
  });
});
