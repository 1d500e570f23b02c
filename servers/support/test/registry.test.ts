import { resolve } from 'node:path';
import { registryProblems } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { createSupportServer } from '../src/index.ts';

describe('tool registry', () => {
  it('follows the house rules (one file per tool, budgets, safety metadata, scopes)', () => {
    for (const maxCreditCents of [1, 10_000, 1_000_000]) {
      expect(
        registryProblems(
          createSupportServer({ maxCreditCents }),
          resolve(import.meta.dirname, '../src/tools'),
        ),
      ).toEqual([]);
    }
  });
});
