/** server.json against the built binary: every variable it names is one the binary's --help documents. */
import { execFileSync } from 'node:child_process';
import { readServerJson } from '@gatehouse/release/server-json';
import { publishableServers } from '@gatehouse/workspace';
import { describe, expect, it } from 'vitest';

describe('server.json (MCP Registry format), against the built binaries', () => {
  it.each(publishableServers().map((s) => [s.json.name, s] as const))(
    '%s: names only variables the binary documents',
    (_, pkg) => {
      const help = execFileSync(process.execPath, [pkg.bin, '--help'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      });
      const names = (readServerJson(pkg).packages ?? []).flatMap((p) =>
        ((p.environmentVariables as Array<{ name: string }> | undefined) ?? []).map((v) => v.name),
      );
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect(help, name).toContain(name);
    },
  );
});
