/**
 * `pnpm surface-bump`: which bump each server owes for its capability surface, and whether the
 * pending changesets declare it (see src/surface-bump.ts).
 *
 *   node tooling/release/surface-bump.ts [--base <git ref>]   exit 1 when a changeset owes more
 */
import { main } from './src/surface-bump.ts';

process.exitCode = main(process.argv.slice(2));
