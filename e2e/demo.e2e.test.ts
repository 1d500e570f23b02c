import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { SERVERS } from './src/servers.ts';

const run = promisify(execFile);

it('pnpm demo runs every server end to end: reads, a denied write, an approved write, a verified audit trail', async () => {
  const { stdout, stderr } = await run(
    process.execPath,
    [resolve(import.meta.dirname, '../tooling/demo/src/demo.ts')],
    {
      timeout: 60_000,
    },
  );
  expect(stdout).toContain('negotiated protocol: 2026-07-28');
  expect(stdout).toMatch(/checkout-api \(production\) is (HEALTHY|DEGRADED|DOWN)/);
  expect(stdout).toContain(
    '[DENIED] rollback_deploy with these arguments requires the scope platform-ops:prod',
  );
  expect(stdout).toMatch(/Rollback rbk_\w+ started: checkout-api \(staging\)/);
  expect(stdout).toMatch(/verify-audit: ok: 7 events, chain intact/);
  expect(stdout).toContain('"mcpServers"');
  // Nothing a newcomer reads as a failure (refusals the demo shows on purpose say "tool error:").
  expect(`${stdout}\n${stderr}`.split('\n').filter((line) => /WARN|ERR|deprecated/.test(line))).toEqual([]);
  // The blocks start the published packages, pinned, never a bare `node` or the demo's sandbox.
  expect(stdout).not.toContain('"command": "node"');
  expect(stdout).toMatch(/"@gatehouse\/platform-ops@\d+\.\d+\.\d+"/);
  expect(stdout).toContain('stops with this demo');
  // Every server found in the workspace ran, and is in the host configuration.
  for (const server of SERVERS) expect(stdout).toContain(`"${server.name}": {`);
  // docs: both sources, and a path that tries to leave the folder is refused.
  expect(stdout).toMatch(/local\s+local:adr\//);
  expect(stdout).toMatch(/refused: \[INVALID_ARGUMENT\]/);
  // support: masked personal data, fenced customer text, the cap, an approved credit.
  expect(stdout).toContain('<untrusted-content source="ticket');
  expect(stdout).toContain('[LIMIT_EXCEEDED]');
  expect(stdout).toMatch(/Credited \$25\.00 USD/);
}, 90_000);
