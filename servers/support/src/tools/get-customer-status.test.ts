import { describe, it } from 'vitest';
import { rejectsHostileIds, useHarness } from '../../test/harness.ts';

const fx = useHarness();

describe('bad input never reaches or changes the upstream path', () => {
  it('get_customer_status rejects hostile ids with INVALID_ARGUMENT and sends nothing', () =>
    rejectsHostileIds(fx.h, 'get_customer_status', (id) => ({ customer_id: id })));
});
