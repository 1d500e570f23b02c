import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishableServers } from '@gatehouse/workspace';
import { describe, expect, it } from 'vitest';
import { checkServerJson, readServerJson, SCHEMA_FILE, SCHEMA_SHA256 } from './server-json.ts';

const servers = publishableServers();

/** The built binary's side of server.json (the variables it documents) is in e2e/server-json.e2e.test.ts. */
describe('server.json (MCP Registry format)', () => {
  it('the vendored schema is the published 2025-12-11 one, byte for byte', () => {
    expect(createHash('sha256').update(readFileSync(SCHEMA_FILE)).digest('hex')).toBe(SCHEMA_SHA256);
  });

  it('every server has one', () => {
    expect(servers.length).toBeGreaterThan(0);
    for (const server of servers) expect(existsSync(join(server.dir, 'server.json')), server.name).toBe(true);
  });

  it.each(servers.map((s) => [s.json.name, s] as const))(
    '%s: valid against the schema and in step with package.json',
    (_, pkg) => {
      expect(checkServerJson(pkg)).toEqual([]);
      expect(pkg.json.files).toEqual(
        expect.arrayContaining(['dist', 'README.md', 'LICENSE', 'CHANGELOG.md', 'server.json']),
      );
      expect(readFileSync(join(pkg.dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    },
  );

  it('rejects what the registry would reject', () => {
    const pkg = servers[0]!;
    const doc = readServerJson(pkg);
    expect(checkServerJson(pkg, { ...doc, description: 'x'.repeat(101) }).join('\n')).toMatch(/description/);
    expect(checkServerJson(pkg, { ...doc, name: 'no-slash' }).join('\n')).toMatch(/pattern|mcpName/);
    expect(checkServerJson(pkg, { ...doc, version: '^1.0.0' }).join('\n')).toMatch(
      /specific version|package version/,
    );
    const stale = { ...doc, packages: [{ ...doc.packages![0]!, version: '0.0.0-old' }] };
    expect(checkServerJson(pkg, stale).join('\n')).toMatch(/packages npm version/);
    expect(
      checkServerJson(pkg, { ...doc, packages: [{ ...doc.packages![0]!, version: 'latest' }] }).join('\n'),
    ).toMatch(/schema/);
  });
});
