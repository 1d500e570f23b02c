import { resolve } from 'node:path';
import { binarySurfaceAgainstSnapshot, readmeAgainstDefinition } from '@gatehouse/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import support from '../src/index.ts';
import { ALL_SCOPES, BIN, type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

it('keeps the README tables in step with the definitions (pnpm generate)', async () => {
  const { generated, committed } = await readmeAgainstDefinition(
    support,
    resolve(import.meta.dirname, '../README.md'),
  );
  expect(committed).toBe(generated);
});

it('matches the committed capability surface (UPDATE_SURFACE=1 pnpm test to accept a change)', async () => {
  const { actual, committed } = await binarySurfaceAgainstSnapshot({
    bin: BIN,
    env: h.env({ SUPPORT_SCOPES: `${ALL_SCOPES},support:pii` }),
    snapshot: resolve(import.meta.dirname, '../surface.json'),
  });
  expect(committed, 'surface.json is missing: run UPDATE_SURFACE=1 pnpm test').toBeDefined();
  expect(actual).toEqual(committed);
});
