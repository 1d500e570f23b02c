/**
 * `pnpm lint` (with Biome): no source file under packages/*\/src, servers/*\/src
 * or tooling/*\/src may pass 400 lines — a file that long mixes concerns. Data
 * fixtures are exempt: files in a `data/` folder or named `data.ts` / `*.data.ts`.
 * Prints each offender with its length and exits 1; silent and 0 when clean.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const LIMIT = 400;
const root = resolve(import.meta.dirname, '../..');
const SOURCE = /\.(ts|mts|js|mjs)$/;
const DATA = /(^|\/)data\/|(^|\/)(\w+\.)?data\.ts$/;

function* files(dir: string): Generator<string> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (SOURCE.test(entry)) yield path;
  }
}

const offenders: string[] = [];
for (const group of ['packages', 'servers', 'tooling'])
  for (const name of readdirSync(join(root, group)))
    for (const file of files(join(root, group, name, 'src'))) {
      const path = relative(root, file);
      if (DATA.test(path)) continue;
      const lines = readFileSync(file, 'utf8').split('\n').length - 1;
      if (lines > LIMIT) offenders.push(`${path}: ${lines} lines (limit ${LIMIT}; split it by job)`);
    }
for (const line of offenders) process.stderr.write(`${line}\n`);
process.exit(offenders.length > 0 ? 1 : 0);
