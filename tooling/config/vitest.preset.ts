import { defineProject } from 'vitest/config';

/** Shared per-package test settings: node environment, generous timeouts for process-spawning tests. */
export function projectPreset(name: string) {
  return defineProject({
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  });
}
