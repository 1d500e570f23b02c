import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Sandbox } from '@gatehouse/sandbox';
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

/** Every target that exists in this checkout (a domain server counts once its dist/bin.js is built). */
export function discoverTargets(sandbox: Sandbox, unbuilt: ReadonlySet<string>): Target[] {
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
  const ops = join(REPO, 'servers/platform-ops/dist/bin.js');
  if (existsSync(ops))
    targets.push({
      name: 'platform-ops',
      kind: 'gatehouse',
      bin: ops,
      env: (s, extra) => ({
        PLATFORM_OPS_API_URL: sandbox.url,
        PLATFORM_OPS_API_TOKEN: sandbox.tokens['platform-ops'],
        PLATFORM_OPS_AUDIT_FILE: auditFile(s, 'ops'),
        ...extra,
      }),
      call: { tool: 'get_service_health', args: { service: 'checkout-api' } },
    });
  const docs = join(REPO, 'servers/docs/dist/bin.js');
  if (existsSync(docs)) {
    let root: string | undefined;
    targets.push({
      name: 'docs',
      kind: 'gatehouse',
      bin: docs,
      env: (s, extra) => {
        root ??= copyHandbook(s);
        return {
          DOCS_ROOT: root,
          DOCS_API_URL: sandbox.url,
          DOCS_API_TOKEN: sandbox.tokens.docs,
          DOCS_AUDIT_FILE: auditFile(s, 'docs'),
          ...extra,
        };
      },
      call: { tool: 'search_docs', args: { query: 'postgres' } },
    });
  }
  const support = join(REPO, 'servers/support/dist/bin.js');
  if (existsSync(support))
    targets.push({
      name: 'support',
      kind: 'gatehouse',
      bin: support,
      env: (s, extra) => ({
        SUPPORT_API_URL: sandbox.url,
        SUPPORT_API_TOKEN: sandbox.tokens.support,
        SUPPORT_AUDIT_FILE: auditFile(s, 'support'),
        ...extra,
      }),
      call: { tool: 'search_tickets', args: { query: 'refund' } },
    });
  return targets;
}

function copyHandbook(scratch: string): string {
  const root = join(scratch, 'handbook');
  cpSync(join(REPO, 'servers/docs/handbook'), root, { recursive: true });
  return root;
}

/** Every scope a server defines, so tools/list shows its whole surface (the worst case for context cost). */
export const ALL_SCOPES: Record<string, Record<string, string>> = {
  'platform-ops': { PLATFORM_OPS_SCOPES: 'platform-ops:read,platform-ops:write,platform-ops:prod' },
  docs: { DOCS_SCOPES: 'docs:read' },
  support: { SUPPORT_SCOPES: 'support:read,support:write,support:credit,support:pii' },
};
