import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Options } from 'tsup';
import { minimumNode, nodeGuard } from './node-guard.ts';

/**
 * The one build recipe for Gatehouse bundles: ESM for Node 22+, source maps,
 * and a shebang on each entry so `bin` works after `npm install -g`.
 * `@gatehouse/*` workspace packages are inlined (they are private source);
 * third-party dependencies stay external and are installed from the registry
 * (each server's list is generated from what its binary loads: `pnpm generate`).
 */
export function binaryPreset(entry: Record<string, string>, overrides: Options = {}): Options {
  return {
    entry,
    format: ['esm'],
    target: 'node22',
    platform: 'node',
    sourcemap: true,
    clean: true,
    // Chunks, so code behind a dynamic import (the HTTP stack) loads only when used.
    splitting: true,
    shims: false,
    banner: { js: '#!/usr/bin/env node' },
    noExternal: [/^@gatehouse\//],
    // Keep `node:` specifiers: builtins such as node:sqlite exist only under that prefix.
    removeNodeProtocol: false,
    ...overrides,
  };
}

/** The nearest package.json declaring `engines.node`, from the package being built up to the workspace root. */
function enginesNode(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const range = JSON.parse(readFileSync(file, 'utf8')).engines?.node;
      if (typeof range === 'string') return range;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * A package's binary (`bin` → dist/bin.js): `source` bundled as dist/main.js, and dist/bin.js the
 * small entry that checks the Node.js version first (./node-guard.ts), against the package's
 * `engines.node`, then loads dist/main.js. Run from the package's folder (as `tsup` is).
 */
export function guardedBinary(source = 'src/bin.ts', overrides: Options = {}): Options {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
    name: string;
    bin?: Record<string, string>;
  };
  const bin = Object.keys(manifest.bin ?? {})[0] ?? manifest.name;
  const minimum = minimumNode(enginesNode(process.cwd()));
  const outDir = overrides.outDir ?? 'dist';
  return binaryPreset(
    { main: source },
    {
      ...overrides,
      outDir,
      onSuccess: async () => {
        const entry = join(outDir, 'bin.js');
        writeFileSync(entry, nodeGuard({ bin, minimum, bundle: './main.js' }));
        chmodSync(entry, 0o755);
      },
    },
  );
}
