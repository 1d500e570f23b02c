import { defineProject } from 'vitest/config';

/**
 * The test tiers, told apart by file name and picked with GATEHOUSE_TESTS (the root scripts set it):
 * - `fast`: `*.test.ts` beside the code (`src/`, a server's `sandbox/`), in-process only — `pnpm test:fast`;
 * - `system`: `*.system.test.ts`, tests that start daemons, browsers or containers — `pnpm test:system`;
 * - `all` (unset): everything but the system tier — the fast tier plus the end-to-end tests through the
 *   built binaries (`*.e2e.test.ts`, any other file under a package's `test/`, all of `e2e/`) — `pnpm test`.
 *   In-process runs that cost seconds of CPU (load, scale) are named `*.e2e.test.ts` too, so the fast tier
 *   stays fast.
 */
export type Tier = 'fast' | 'all' | 'system';

export function currentTier(value = process.env.GATEHOUSE_TESTS): Tier {
  if (value === undefined || value === '' || value === 'all') return 'all';
  if (value === 'fast' || value === 'system') return value;
  throw new Error(`GATEHOUSE_TESTS must be fast, all or system (got ${JSON.stringify(value)})`);
}

const SYSTEM = '**/*.system.test.ts';
const E2E = '**/*.e2e.test.ts';

/** Where a package keeps its tests: beside the code, and (for end-to-end cases) under test/. */
const BESIDE_THE_CODE = ['src/**/*.test.ts', 'sandbox/**/*.test.ts'];
const ANYWHERE = [...BESIDE_THE_CODE, 'test/**/*.test.ts'];

/** The include/exclude globs of one project for one tier; `e2e` is the top-level end-to-end package. */
export function tierGlobs(tier: Tier, kind: 'package' | 'e2e' = 'package') {
  const exclude = ['**/node_modules/**', '**/dist/**'];
  if (tier === 'system') return { include: [SYSTEM], exclude };
  if (kind === 'e2e')
    return tier === 'fast'
      ? { include: [], exclude }
      : { include: ['**/*.test.ts'], exclude: [...exclude, SYSTEM] };
  if (tier === 'fast') return { include: BESIDE_THE_CODE, exclude: [...exclude, SYSTEM, E2E] };
  return { include: ANYWHERE, exclude: [...exclude, SYSTEM] };
}

export interface PresetOptions {
  /** `e2e`: the top-level end-to-end package (all of it is the end-to-end tier). */
  kind?: 'package' | 'e2e';
  /**
   * `false` lets a worker reuse loaded modules across this project's test files instead of loading
   * core, the SDK and zod again for each one (about 40% off a server's in-process tier). Only for
   * projects whose tests leave no process-wide state behind (no global OpenTelemetry provider, no
   * stubbed globals that outlive a file).
   */
  isolate?: boolean;
}

/** Shared per-package test settings: node environment, generous timeouts for process-spawning tests. */
export function projectPreset(name: string, options: PresetOptions = {}) {
  return defineProject({
    test: {
      name,
      environment: 'node',
      ...tierGlobs(currentTier(), options.kind),
      isolate: options.isolate ?? true,
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  });
}
