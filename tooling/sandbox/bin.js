#!/usr/bin/env node
// `gatehouse-sandbox`: a file of the source tree, so a fresh install links the command before anything
// is built (no "Failed to create bin" warning); it runs the built sandbox, or says in one line how to
// build it.
import { existsSync } from 'node:fs';

const built = new URL('./dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('gatehouse-sandbox: not built yet: run pnpm build\n');
  process.exit(2);
}
await import(built.href);
