import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Options } from 'tsup';

/**
 * Core is inlined into each binary, so each server must declare core's
 * runtime dependencies itself (tsup would otherwise bundle them, and some,
 * being CommonJS, break when bundled). Fails the build naming what is missing.
 */
function assertCoreDependencies(): void {
  const read = (path: string) =>
    JSON.parse(readFileSync(path, 'utf8')) as { name: string; dependencies?: Record<string, string> };
  const server = read(resolve(process.cwd(), 'package.json'));
  const core = read(resolve(import.meta.dirname, '../../packages/core/package.json'));
  const missing = Object.keys(core.dependencies ?? {}).filter((dep) => !(dep in (server.dependencies ?? {})));
  if (missing.length > 0)
    throw new Error(
      `${server.name} must list core's runtime dependencies: ${missing.join(', ')} (use "catalog:")`,
    );
}

/**
 * The one build recipe for Gatehouse binaries: ESM for Node 22+, source maps,
 * and a shebang on each entry so `bin` works after `npm install -g`.
 * `@gatehouse/*` workspace packages are inlined (they are private source);
 * third-party dependencies stay external and are installed from the registry.
 */
export function binaryPreset(entry: Record<string, string>, overrides: Options = {}): Options {
  if (process.cwd().includes('/servers/')) assertCoreDependencies();
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
