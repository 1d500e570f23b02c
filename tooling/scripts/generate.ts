/**
 * `pnpm generate`: rewrites the generated parts of every server's README (the
 * capability, scope and environment tables) from the server definitions.
 * Tests fail when a README drifts from its definition, so run this after
 * changing a tool, resource, prompt, scope or variable.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '../..');
const { withGeneratedTables } = await import(
  pathToFileURL(join(root, 'packages/core/src/docs/readme.ts')).href
);

for (const name of readdirSync(join(root, 'servers'))) {
  const dir = join(root, 'servers', name);
  const entry = join(dir, 'src/index.ts');
  const readme = join(dir, 'README.md');
  if (!existsSync(entry) || !existsSync(readme)) continue;
  const definition = (await import(pathToFileURL(entry).href)).default;
  const before = readFileSync(readme, 'utf8');
  const after = withGeneratedTables(before, definition);
  if (after !== before) writeFileSync(readme, after);
  process.stdout.write(`${after === before ? 'unchanged' : 'updated  '} servers/${name}/README.md\n`);
}
