import { connectV2 } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../test/harness.ts';
import platformOps from '../index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('bad input', () => {
  it('never lets a runbook id change the upstream path', async () => {
    const c = await connectV2({ server: platformOps, env: h.env() });
    try {
      // Resource ids go through the same encoding: an unknown runbook is a clean NOT_FOUND on the runbooks path.
      await h.control.clearRequests();
      await expect(c.client.readResource({ uri: 'runbook://rb-..-admin' })).rejects.toThrow(/NOT_FOUND/);
      const seen = await h.control.requests();
      expect(seen.map((r) => r.path)).toEqual(['/platform/v1/runbooks/rb-..-admin']);
    } finally {
      await c.close();
    }
  });
});
