import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runtimeDependencies, serverDependencies } from './dependencies.ts';

const root = resolve(import.meta.dirname, '../../../..');

function write(base: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    writeFileSync(join(base, path), text);
  }
}

describe('runtime dependencies', () => {
  it('follows relative and workspace imports, static and dynamic; skips types, builtins and JSON', () => {
    const base = mkdtempSync(join(tmpdir(), 'deps-'));
    write(base, {
      'packages/kit/package.json': JSON.stringify({
        name: '@gatehouse/kit',
        exports: { '.': './src/index.ts', './net': './src/net.ts' },
        dependencies: { pino: '^10.0.0', ky: 'catalog:', 'only-types': '1.0.0', unused: '1.0.0' },
      }),
      'packages/kit/src/index.ts':
        "import { pino } from 'pino';\nimport type { Thing } from 'only-types';\nexport const later = () => import('./lazy.ts');\n",
      'packages/kit/src/lazy.ts': "export { default } from 'ky';\n",
      'packages/kit/src/net.ts': "import { createServer } from 'node:http';\nimport 'fs';\n",
      'servers/x/package.json': JSON.stringify({ name: '@gatehouse/x', dependencies: { zod: '^4.0.0' } }),
      'servers/x/src/bin.ts':
        "import pkg from '../package.json' with { type: 'json' };\nimport { z } from 'zod/mini';\nimport { later } from '@gatehouse/kit';\nimport '@gatehouse/kit/net';\n",
    });
    expect(serverDependencies(base, join(base, 'servers/x'))).toEqual({
      ky: 'catalog:',
      pino: '^10.0.0',
      zod: '^4.0.0',
    });
  });

  it('names the package that imports something it does not list', () => {
    const base = mkdtempSync(join(tmpdir(), 'deps-'));
    write(base, {
      'servers/y/package.json': JSON.stringify({ name: '@gatehouse/y', dependencies: {} }),
      'servers/y/src/bin.ts': "import { z } from 'zod';\n",
    });
    expect(() => runtimeDependencies(base, join(base, 'servers/y/src/bin.ts'))).toThrow(
      /@gatehouse\/y imports zod at run time but does not list it/,
    );
  });

  // Discovered, not listed: every server folder with a binary.
  const servers = readdirSync(join(root, 'servers')).filter((name) => {
    try {
      return Boolean(JSON.parse(readFileSync(join(root, 'servers', name, 'package.json'), 'utf8')).bin);
    } catch {
      return false;
    }
  });
  it.each(servers)('servers/%s lists exactly what its binary loads (run `pnpm generate` to fix)', (name) => {
    const json = JSON.parse(readFileSync(join(root, 'servers', name, 'package.json'), 'utf8'));
    expect(json.dependencies).toEqual(serverDependencies(root, join(root, 'servers', name)));
  });
});
