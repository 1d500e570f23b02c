import { resolve } from 'node:path';
import { registryProblems } from '@gatehouse/core/testing';
import { expect, it } from 'vitest';
import { platformOps } from '../src/index.ts';

it('follows the house rules for tool definitions', () => {
  expect(registryProblems(platformOps, resolve(import.meta.dirname, '../src/tools'))).toEqual([]);
});
