/**
 * The entry of every Gatehouse binary: a few lines of plain JavaScript that any Node.js parses,
 * importing nothing at the top level. It compares the running Node.js with the version the package
 * needs (its `engines.node`) and, when older, prints one line naming both and exits 2; otherwise it
 * loads the bundle. Without it an old Node.js fails inside the bundle (node:sqlite, newer syntax)
 * with a stack trace, or worse, starts half-working.
 */

/** `>=22.13` (the form Gatehouse's `engines.node` takes) as [major, minor, patch]. */
export function minimumNode(range: string | undefined): [number, number, number] {
  const match = /^\s*>=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(range ?? '');
  if (!match)
    throw new Error(
      `engines.node must be of the form ">=MAJOR.MINOR[.PATCH]" for the Node.js check, not ${JSON.stringify(range)}`,
    );
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

/** The entry's source: checks `process.versions.node`, then imports `bundle` (a path beside it). */
export function nodeGuard(options: {
  bin: string;
  minimum: [number, number, number];
  bundle: string;
}): string {
  const need = options.minimum.join('.');
  return `#!/usr/bin/env node
// ${options.bin}: checks the Node.js version before loading ${options.bundle}; written in syntax every Node.js parses.
var need = [${options.minimum.join(', ')}];
var found = process.versions.node.split('.').map(Number);
var ok = found[0] !== need[0] ? found[0] > need[0] : found[1] !== need[1] ? found[1] > need[1] : found[2] >= need[2];
if (!ok) {
  process.stderr.write(${JSON.stringify(`${options.bin}: needs Node.js ${need} or newer; this is Node.js `)} + process.versions.node + ' (' + process.execPath + ')\\n');
  process.exit(2);
} else {
  import(${JSON.stringify(options.bundle)});
}
`;
}
