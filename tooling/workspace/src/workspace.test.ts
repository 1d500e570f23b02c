import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  allScopesEnv,
  findRepoRoot,
  publishableServers,
  repoRoot,
  servers,
  smokeInputs,
  upstreamEnv,
  workspaceGlobs,
  workspacePackages,
} from './index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-workspace-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function write(path: string, text: string) {
  mkdirSync(join(scratch, path, '..'), { recursive: true });
  writeFileSync(join(scratch, path), text);
}

write('pnpm-workspace.yaml', "packages:\n  - packages/*\n  - 'servers/*'\n  - e2e\n\ncatalog:\n  zod: ^4\n");
write('packages/core/package.json', JSON.stringify({ name: '@x/core', version: '1.0.0' }));
write(
  'servers/billing/package.json',
  JSON.stringify({ name: '@x/billing', version: '0.1.0', bin: { 'billing-mcp': './dist/bin.js' } }),
);
write(
  'servers/ledger/package.json',
  JSON.stringify({
    name: '@x/ledger',
    version: '0.1.0',
    private: true,
    bin: { 'ledger-mcp': './dist/bin.js' },
  }),
);
write('servers/notes/package.json', JSON.stringify({ name: '@x/notes', version: '0.1.0' }));
write(
  'servers/billing/test/e2e.json',
  JSON.stringify({ env: { BILLING_ROOT: './data', BILLING_MODE: 'x' } }),
);
write('e2e/package.json', JSON.stringify({ name: '@x/e2e', version: '0.0.0', private: true }));

describe('the workspace, read from pnpm-workspace.yaml', () => {
  it('lists the packages its globs name, in path order', () => {
    expect(workspaceGlobs(scratch)).toEqual(['packages/*', 'servers/*', 'e2e']);
    expect(workspacePackages(scratch).map((p) => p.relativeDir)).toEqual([
      'e2e',
      'packages/core',
      'servers/billing',
      'servers/ledger',
      'servers/notes',
    ]);
  });

  it('finds servers by their bin, published or not', () => {
    const found = servers(scratch);
    expect(found.map((s) => [s.name, s.command])).toEqual([
      ['billing', 'billing-mcp'],
      ['ledger', 'ledger-mcp'],
    ]);
    expect(found[0]!.bin).toBe(join(scratch, 'servers/billing/dist/bin.js'));
    expect(found[0]!.entry).toBe(join(scratch, 'servers/billing/src/index.ts'));
    expect(publishableServers(scratch).map((s) => s.name)).toEqual(['billing']);
  });

  it("reads a server's smoke inputs, with ./ paths inside its folder", () => {
    const [billing, ledger] = servers(scratch);
    expect(smokeInputs(billing!)).toEqual({
      env: { BILLING_ROOT: join(scratch, 'servers/billing/data'), BILLING_MODE: 'x' },
    });
    expect(smokeInputs(ledger!)).toEqual({ env: {} });
  });

  it('derives upstream and scope variables from a definition', () => {
    const definition = { envPrefix: 'BILLING', scopes: { 'billing:read': 'r', 'billing:write': 'w' } };
    expect(upstreamEnv(definition, { url: 'http://127.0.0.1:1', token: 't' })).toEqual({
      BILLING_API_URL: 'http://127.0.0.1:1',
      BILLING_API_TOKEN: 't',
    });
    expect(allScopesEnv(definition)).toEqual({ BILLING_SCOPES: 'billing:read,billing:write' });
  });

  it('finds this checkout, and every servers/<name> with a bin in it', () => {
    expect(findRepoRoot(join(repoRoot, 'servers', 'x', 'y.ts'))).toBe(repoRoot);
    expect(servers().length).toBeGreaterThan(0);
    for (const server of servers()) expect(server.relativeDir).toBe(`servers/${server.name}`);
  });
});
