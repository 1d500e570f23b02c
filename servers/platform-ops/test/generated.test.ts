import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { withGeneratedTables } from '@gatehouse/core';
import { connectV2, surfaceAgainstSnapshot } from '@gatehouse/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import platformOps from '../src/index.ts';
import { ALL_SCOPES, BIN, type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

it('keeps the README tables in step with the definitions (pnpm generate)', () => {
  const readme = readFileSync(resolve(import.meta.dirname, '../README.md'), 'utf8');
  expect(withGeneratedTables(readme, platformOps)).toBe(readme);
});

it('matches the committed capability surface (UPDATE_SURFACE=1 pnpm test to accept a change)', async () => {
  const c = await connectV2({ bin: BIN, env: h.env({ PLATFORM_OPS_SCOPES: ALL_SCOPES }) });
  try {
    const { actual, committed } = await surfaceAgainstSnapshot(
      c.client,
      resolve(import.meta.dirname, '../surface.json'),
    );
    expect(committed, 'surface.json is missing: run UPDATE_SURFACE=1 pnpm test').toBeDefined();
    expect(actual).toEqual(committed);
  } finally {
    await c.close();
  }
});
