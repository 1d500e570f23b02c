/** The adapter's answers for what the upstream does not have. */
import { connectV2, errorOf, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../test/harness.ts';
import support from './index.ts';

const fx = useHarness();

describe('the upstream adapter', () => {
  it('reports an unknown ticket or customer as NOT_FOUND', () =>
    withClient(connectV2({ server: support, env: fx.h.env() }), async ({ client }) => {
      expect(
        errorOf(await client.callTool({ name: 'lookup_ticket', arguments: { ticket_id: 'T-99999' } })),
      ).toMatchObject({ code: 'NOT_FOUND', retryable: false });
      expect(
        errorOf(
          await client.callTool({ name: 'get_customer_status', arguments: { customer_id: 'cus_nope' } }),
        )?.code,
      ).toBe('NOT_FOUND');
      expect(
        errorOf(
          await client.callTool({ name: 'list_customer_tickets', arguments: { customer_id: 'cus_nope' } }),
        )?.code,
      ).toBe('NOT_FOUND');
    }));
});
