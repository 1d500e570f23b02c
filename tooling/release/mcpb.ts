/**
 * `node tooling/release/mcpb.ts`: one MCP Bundle per server, from the built
 * dist/ (build first), into dist-mcpb/<server>-<version>.mcpb. `pnpm release`
 * runs it after the build unless told `--skip-mcpb`.
 *
 *   node tooling/release/mcpb.ts [--out <dir>] [--server platform-ops]...
 */
import { parseArgs } from 'node:util';
import { repoRoot } from '@gatehouse/workspace';
import { buildBundles } from './src/mcpb.ts';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      server: { type: 'string', multiple: true },
      root: { type: 'string' },
    },
  });
  await buildBundles({
    root: values.root ?? repoRoot,
    ...(values.out ? { outDir: values.out } : {}),
    ...(values.server ? { only: values.server } : {}),
    log: (line) => process.stdout.write(`mcpb: ${line}\n`),
  });
}

if (import.meta.main) {
  try {
    await main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`mcpb: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
