import type { Options } from 'tsup';

/**
 * The one build recipe for Gatehouse binaries: ESM for Node 22+, source maps,
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
