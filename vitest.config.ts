import { defineConfig } from 'vitest/config';
import { currentTier } from './tooling/config/vitest.preset.ts';

// One root run per tier (GATEHOUSE_TESTS: see tooling/config/vitest.preset.ts). The fast tier never
// loads the end-to-end package. CI also writes a JSON report per run, which .ci/run counts.
const tier = currentTier();
const reporters: string[] = process.env.CI ? ['default', 'json'] : ['default'];

export default defineConfig({
  test: {
    projects: ['packages/*', 'servers/*', 'tooling/*', ...(tier === 'fast' ? [] : ['e2e'])],
    reporters,
    // Most tests wait on sockets, child processes and timers rather than the CPU: vitest's default
    // (one file at a time on 2 cores) leaves the machine idle. `--maxWorkers N` overrides.
    maxWorkers: 4,
    outputFile: { json: tier === 'system' ? '.ci/vitest-report-system.json' : '.ci/vitest-report.json' },
  },
});
