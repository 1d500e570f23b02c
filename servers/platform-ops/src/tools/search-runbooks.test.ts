import { expect } from 'vitest';
import { describeAllowedCall, fileHarness } from '../../test/harness.ts';

describeAllowedCall(
  fileHarness(),
  'finds runbooks matching a query',
  { name: 'search_runbooks', arguments: { query: 'latency', limit: 5 } },
  (runbooks) => {
    expect((runbooks.structuredContent as { results: unknown[] }).results.length).toBeGreaterThan(0);
  },
);
