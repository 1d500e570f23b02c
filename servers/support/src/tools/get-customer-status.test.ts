import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Harness, rejectsHostileIds, startHarness } from '../../test/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(() => h.close());

describe('bad input never reaches or changes the upstream path', () => {
  it('get_customer_status rejects hostile ids with INVALID_ARGUMENT and sends nothing', () =>
    rejectsHostileIds(h, 'get_customer_status', (id) => ({ customer_id: id })));
});
