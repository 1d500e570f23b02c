/** The checks every server shares (registry, README, surface snapshot, fuzzing: see defineServerTests). */
import { resolve } from 'node:path';
import { fuzzTools } from '@gatehouse/bench/fuzz';
import { defineServerTests } from '@gatehouse/core/testing';
import { expect } from 'vitest';
import support from './index.ts';

defineServerTests(support, {
  root: resolve(import.meta.dirname, '..'),
  // The credit cap shapes the credit tool's schema: the house rules hold for small and large caps alike.
  registryVariants: [1, 10_000, 1_000_000].map((cents) => ({ SUPPORT_MAX_CREDIT_CENTS: String(cents) })),
  fuzz: {
    engine: fuzzTools,
    runsPerTool: 80,
    budgetMs: 12_000,
    seed: 515_151,
    // The human declined every approval: nothing was escalated or paid, the only upstream writes are
    // notes (which need no approval).
    after: async ({ harness }) => {
      const writes = (await harness.control.requests()).filter((r) => r.method !== 'GET');
      expect(writes.filter((r) => /\/(escalations|credits)/.test(r.path))).toEqual([]);
      expect(writes.every((r) => r.path.endsWith('/notes'))).toBe(true);
    },
  },
});
