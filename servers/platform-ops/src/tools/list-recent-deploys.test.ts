import { connectV2, errorOf, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { describeAllowedCall, fileHarness, invalidCalls } from '../../test/harness.ts';
import platformOps from '../index.ts';

const h = fileHarness();

describeAllowedCall(
  h,
  'answers with one page of deploys of the asked environment and a cursor to the next',
  {
    name: 'list_recent_deploys',
    arguments: { service: 'checkout-api', environment: 'production', limit: 3 },
  },
  (deploys) => {
    const page = deploys.structuredContent as {
      deploys: Array<{ environment: string; startedAt: string }>;
      nextCursor: string | null;
    };
    expect(page.deploys).toHaveLength(3);
    expect(page.deploys.every((d) => d.environment === 'production')).toBe(true);
    expect(page.nextCursor).toBeTypeOf('string');
  },
);

describe('pagination', () => {
  it('walks list_recent_deploys to the end without repeats', async () => {
    await withClient(connectV2({ server: platformOps, env: h.env() }), async ({ client }) => {
      const seen = new Set<string>();
      let cursor: string | undefined;
      for (let page = 0; page < 50; page++) {
        const result = await client.callTool({
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
    });
  });
});

describe('bad input', () => {
  it('answers a limit out of range with INVALID_ARGUMENT, without calling upstream', async () => {
    const limit = { name: 'list_recent_deploys', arguments: { service: 'checkout-api', limit: 10_000 } };
    await invalidCalls(h, [limit], (result) => {
      expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
    });
  });
});
