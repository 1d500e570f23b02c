/**
 * `pnpm generate`: rewrites what is generated in every server's folder — the
 * README tables (capabilities, scopes, environment) from the server
 * definition, the README's host configuration blocks (Claude Desktop, Claude
 * Code, VS Code, Cursor; pinned to package.json's version), and package.json's `dependencies` from what the binary actually
 * loads (core's included). Tests fail when either drifts, so run this after
 * changing a tool, resource, prompt, scope, variable or import.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '../..');
const { withGeneratedTables } = await import(
  pathToFileURL(join(root, 'packages/core/src/docs/readme.ts')).href
);
const { serverDependencies } = await import(
  pathToFileURL(join(root, 'packages/core/src/testing/dependencies.ts')).href
);
const { writeHostConfigs } = await import(
  pathToFileURL(join(root, 'tooling/workspace/src/host-config.ts')).href
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

  const manifest = join(dir, 'package.json');
  const text = readFileSync(manifest, 'utf8');
  const json = JSON.parse(text);
  json.dependencies = serverDependencies(root, dir);
  const next = `${JSON.stringify(json, null, 2)}\n`;
  if (next !== text) writeFileSync(manifest, next);
  process.stdout.write(`${next === text ? 'unchanged' : 'updated  '} servers/${name}/package.json\n`);
}

// The host configuration blocks, at each server's package.json version (the release rewrites them too).
for (const readme of await writeHostConfigs(root))
  process.stdout.write(`updated   ${readme.slice(root.length + 1)} (host configuration)\n`);
