// The new-server generator (plop). `pnpm new:server billing` writes servers/billing from
// templates/server, then installs, builds, generates the README tables and captures the
// capability surface, so the new server passes its tests the moment it exists.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const NAME = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;

export default function (plop) {
  plop.setHelper('envPrefix', (name) => name.toUpperCase().replaceAll('-', '_'));
  plop.setGenerator('server', {
    description: 'a new Gatehouse domain MCP server',
    prompts: [
      {
        type: 'input',
        name: 'name',
        message: 'domain name (kebab-case, e.g. billing)',
        validate: (value) =>
          !NAME.test(value)
            ? 'use 3-32 lower-case letters, digits and dashes, starting with a letter'
            : existsSync(resolve(root, 'servers', value))
              ? `servers/${value} already exists`
              : true,
      },
    ],
    actions: (answers) => [
      {
        type: 'addMany',
        destination: `${root}/servers/{{name}}`,
        base: 'templates/server',
        templateFiles: 'templates/server/**/*',
        globOptions: { dot: true },
      },
      {
        type: 'add',
        path: `${root}/.changeset/new-server-{{name}}.md`,
        template:
          '---\n"@gatehouse/{{name}}": minor\n---\n\nNew server: @gatehouse/{{name}}, the {{name}} domain over one typed, audited MCP surface.\n',
      },
      function finish() {
        if (process.env.GATEHOUSE_GENERATE_ONLY === '1')
          return 'files written (GATEHOUSE_GENERATE_ONLY=1: no install or build)';
        const run = (command) => execSync(command, { cwd: root, stdio: 'inherit', env: { ...process.env } });
        run('pnpm install --prefer-offline --no-frozen-lockfile');
        run(`pnpm --filter @gatehouse/${answers.name} build`);
        run(`pnpm exec biome check --write servers/${answers.name}`);
        run('node tooling/scripts/generate.ts');
        run(`UPDATE_SURFACE=1 pnpm exec vitest run --project ${answers.name} test/generated.test.ts`);
        return `servers/${answers.name} is ready: pnpm test runs its tests; see CONTRIBUTING.md for the next steps`;
      },
    ],
  });
}
