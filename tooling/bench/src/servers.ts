import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Sandbox } from '@gatehouse/sandbox';
import { allScopesEnv, loadDefinition, servers, smokeInputs } from '@gatehouse/workspace';
import { targetBin } from './build.ts';

export const REPO = resolve(import.meta.dirname, '../../..');

/** One thing the bench can spawn over stdio: a built Gatehouse server or a bundled baseline. */
export interface Target {
  name: string;
  kind: 'gatehouse' | 'baseline' | 'reference';
  bin: string;
  env: (scratch: string, extra?: Record<string, string>) => Record<string, string>;
  /** A cheap call for throughput/memory loops. */
  call?: { tool: string; args: Record<string, unknown> };
  /** `<PREFIX>_SCOPES` with every scope, so tools/list shows the whole surface (the worst case for context cost). */
  allScopes?: Record<string, string>;
  /** With `--against <ref>`: the same target built from the ref (set on the working tree's target). */
  twin?: Target;
  /** On a ref's twin: the name of the working tree's target it mirrors. */
  twinOf?: string;
}

let counter = 0;
const auditFile = (scratch: string, name: string) => join(scratch, `${name}-audit-${++counter}.jsonl`);

/** Every scratch folder made in this run, removed by the runner at the end. */
export const scratchDirs: string[] = [];

export function makeScratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  scratchDirs.push(dir);
  return dir;
}

/** Every target that exists in this checkout (a server found in the workspace counts once its dist/bin.js is built). */
export async function discoverTargets(sandbox: Sandbox, unbuilt: ReadonlySet<string>): Promise<Target[]> {
  const loaded = new Map(
    await Promise.all(
      servers().map(
        async (server) =>
          [server.name, { definition: await loadDefinition(server), inputs: smokeInputs(server) }] as const,
      ),
    ),
  );
  const targets: Target[] = [];
  const bench = (extra: Record<string, string> = {}) => ({
    BENCH_API_URL: sandbox.url,
    BENCH_API_TOKEN: sandbox.tokens['platform-ops'],
    ...extra,
  });
  if (!unbuilt.has('bare-v2'))
    targets.push({
      name: 'bare SDK v2',
      kind: 'baseline',
      bin: targetBin('bare-v2'),
      env: (_s, extra) => bench(extra),
      call: { tool: 'echo', args: { text: 'hello' } },
    });
  if (!unbuilt.has('bare-v1'))
    targets.push({
      name: 'bare SDK v1',
      kind: 'reference',
      bin: targetBin('bare-v1'),
      env: (_s, extra) => bench(extra),
      call: { tool: 'echo', args: { text: 'hello' } },
    });
  if (!unbuilt.has('core-server'))
    targets.push({
      name: 'core bench server',
      kind: 'gatehouse',
      bin: targetBin('core-server'),
      env: (s, extra) => bench({ BENCH_AUDIT_FILE: auditFile(s, 'core'), ...extra }),
      call: { tool: 'echo', args: { text: 'hello' } },
    });
  // Every server found in the workspace, once built: its env from its definition, the sandbox and its
  // test/e2e.json; its cheap call from the same file.
  for (const server of servers()) {
    if (!existsSync(server.bin)) continue;
    const { definition, inputs } = loaded.get(server.name)!;
    const prefix = definition.envPrefix;
    targets.push({
      name: server.name,
      kind: 'gatehouse',
      bin: server.bin,
      env: (s, extra) => ({
        [`${prefix}_API_URL`]: sandbox.url,
        [`${prefix}_API_TOKEN`]: sandbox.tokens[server.name],
        [`${prefix}_AUDIT_FILE`]: auditFile(s, server.name),
        ...inputs.env,
        ...extra,
      }),
      allScopes: allScopesEnv(definition),
      ...(inputs.call ? { call: { tool: inputs.call.name, args: inputs.call.arguments } } : {}),
    });
  }
  return targets;
}
