import { defineConfig } from 'vitest/config';

// One root run over every package; CI additionally writes a JSON report that .ci/run counts.
const reporters: string[] = process.env.CI ? ['default', 'json'] : ['default'];

export default defineConfig({
  test: {
    projects: ['packages/*', 'servers/*', 'tooling/*'],
    reporters,
    outputFile: { json: '.ci/vitest-report.json' },
  },
});
