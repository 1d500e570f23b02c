import { connectV2, errorOf, readAudit } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, expectAllowedCalls, type Harness, startHarness } from '../../test/harness.ts';
import { platformOps } from '../index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe.each(CLIENTS)('list_recent_deploys over %s', (_label, connect) => {
  it('answers with one page of deploys of the asked environment and a cursor to the next', async () => {
    const env = h.env();
    const c = await connect({ server: platformOps, env });
    try {
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
      expectAllowedCalls(env.PLATFORM_OPS_AUDIT_FILE, ['list_recent_deploys']);
    } finally {
      await c.close();
    }
  });
});

describe('pagination', () => {
  it('walks list_recent_deploys to the end without repeats', async () => {
    const c = await connectV2({ server: platformOps, env: h.env() });
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
  it('answers a limit out of range with INVALID_ARGUMENT, without calling upstream', async () => {
    const env = h.env();
    const c = await connectV2({ server: platformOps, env });
    await h.control.clearRequests();
    try {
      const limit = await c.client.callTool({
        name: 'list_recent_deploys',
        arguments: { service: 'checkout-api', limit: 10_000 },
      });
      expect(errorOf(limit)?.code).toBe('INVALID_ARGUMENT');
      expect((await h.control.requests()).length).toBe(0);
      const audit = readAudit(env.PLATFORM_OPS_AUDIT_FILE);
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        decision: 'invalid',
        outcome: 'error',
        errorCode: 'INVALID_ARGUMENT',
        upstreamCalls: 0,
      });
    } finally {
      await c.close();
    }
  });
});
