import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('pnpm demo runs end to end: reads, a denied write, an approved write, a verified audit trail', async () => {
  const { stdout } = await run(process.execPath, [resolve(import.meta.dirname, '../src/demo.ts')], {
    timeout: 60_000,
  });
  expect(stdout).toContain('negotiated protocol: 2026-07-28');
  expect(stdout).toMatch(/checkout-api \(production\) is (HEALTHY|DEGRADED|DOWN)/);
  expect(stdout).toContain(
    '[DENIED] rollback_deploy with these arguments requires the scope platform-ops:prod',
  );
  expect(stdout).toMatch(/Rollback rbk_\w+ started: checkout-api \(staging\)/);
  expect(stdout).toMatch(/verify-audit: ok: 7 events, chain intact/);
  expect(stdout).toContain('"mcpServers"');
  // docs: both sources, and a path that tries to leave the folder is refused.
  expect(stdout).toMatch(/local\s+local:adr\//);
  expect(stdout).toMatch(/refused: \[INVALID_ARGUMENT\]/);
  // support: masked personal data, fenced customer text, the cap, an approved credit.
  expect(stdout).toContain('<untrusted-content source="ticket');
  expect(stdout).toContain('[LIMIT_EXCEEDED]');
  expect(stdout).toMatch(/Credited \$25\.00 USD/);
}, 90_000);
