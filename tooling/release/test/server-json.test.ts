import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkServerJson, readServerJson, SCHEMA_FILE, SCHEMA_SHA256 } from '../src/server-json.ts';
import { serverPackages } from '../src/workspace.ts';

const servers = serverPackages();

describe('server.json (MCP Registry format)', () => {
  it('the vendored schema is the published 2025-12-11 one, byte for byte', () => {
    expect(createHash('sha256').update(readFileSync(SCHEMA_FILE)).digest('hex')).toBe(SCHEMA_SHA256);
  });

  it('every server has one', () => {
    expect(servers.map((s) => s.json.name)).toContain('@gatehouse/platform-ops');
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

  it.each(servers.map((s) => [s.json.name, s] as const))(
    '%s: names only variables the binary documents',
    (_, pkg) => {
      const bin = join(pkg.dir, Object.values(pkg.json.bin ?? {})[0]!);
      const help = execFileSync(process.execPath, [bin, '--help'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      });
      const names = (readServerJson(pkg).packages ?? []).flatMap((p) =>
        ((p.environmentVariables as Array<{ name: string }> | undefined) ?? []).map((v) => v.name),
      );
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect(help, name).toContain(name);
    },
  );

  it('rejects what the registry would reject', () => {
    const pkg = servers.find((s) => s.json.name === '@gatehouse/platform-ops')!;
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
