import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connectV1, connectV2, errorOf, ok, perFile } from '@gatehouse/core/testing';
import { type ServerHarness, startServerHarness } from '@gatehouse/sandbox';

export const BIN = resolve(import.meta.dirname, '../dist/bin.js');
export const HANDBOOK = resolve(import.meta.dirname, '../handbook');
/** A recognisable upstream token: it must never show up anywhere a client or log reader could see it. */
export const CANARY_TOKEN = 'sbx_docs_CANARY_5e8b1d7c3a9f2046';
/** Text that lives only outside the docs root; it must never come back from any call. */
export const OUTSIDE_SECRET = 'OUTSIDE-ROOT-SECRET-9c41f';

export type Harness = Omit<ServerHarness, 'env'> & {
  /** A fresh copy of the sample handbook, plus an outside file and hostile links; returns its path. */
  handbook(name?: string): string;
  /** Env for one server process with both sources and its own audit file. */
  env(extra?: Record<string, string>): Record<string, string> & { DOCS_AUDIT_FILE: string };
};

async function startHarness(): Promise<Harness> {
  const base = await startServerHarness({
    domain: 'docs',
    prefix: 'DOCS',
    token: CANARY_TOKEN,
    logLevel: 'info',
  });
  let n = 0;
  const handbook = (name = `handbook-${++n}`) => {
    const root = join(base.dir, name);
    cpSync(HANDBOOK, root, { recursive: true });
    // Next to the root, never inside it: what links try to reach.
    const outside = join(base.dir, `${name}-outside`);
    mkdirSync(outside, { recursive: true });
    writeFileSync(
      join(outside, 'secret.md'),
      `---\ntitle: Outside secret\n---\n# Outside\n\n${OUTSIDE_SECRET} postgres kafka\n`,
    );
    return root;
  };
  let defaultRoot: string | undefined;
  return {
    ...base,
    handbook,
    env: (extra = {}) => {
      defaultRoot ??= handbook('shared');
      return base.env({ DOCS_ROOT: defaultRoot, ...extra }) as Record<string, string> & {
        DOCS_AUDIT_FILE: string;
      };
    },
  };
}

/** The harness of one test file: started before its tests, closed after them. */
export const fileHarness = (): Harness => perFile(startHarness);

/**
 * Plants links in a handbook copy that try to leave it: a folder link to /etc, a file link and a
 * folder link to what lies beside the root (see `handbook`); and a link that stays inside, which is fine.
 */
export function plantLinks(root: string): void {
  symlinkSync('/etc', join(root, 'etc-link'));
  symlinkSync(join(`${root}-outside`, 'secret.md'), join(root, 'guides', 'escape.md'));
  symlinkSync(`${root}-outside`, join(root, 'outside-dir'));
  symlinkSync(join(root, 'adr', '0007-use-postgres.md'), join(root, 'guides', 'postgres-decision.md'));
}

/** Both SDK clients: the v2 client (2026-07-28) and the v1 client most hosts still embed. */
export const CLIENTS = [
  ['v2 client, 2026-07-28', connectV2],
  ['v1 client, 2025-11-25', connectV1],
] as const;

export { ok as structured } from '@gatehouse/core/testing';

/** The client of either SDK, as a test over `CLIENTS` holds it: `withClient<AnyClient, void>(connect(...), ...)`. */
export type AnyClient = Awaited<ReturnType<(typeof CLIENTS)[number][1]>>['client'];

type Tools = { callTool(call: { name: string; arguments: Record<string, unknown> }): Promise<object> };

/** Calls a tool and returns its structured content, failing loudly on a tool error. */
// biome-ignore lint/suspicious/noExplicitAny: tool outputs are read as the test needs them.
export async function callOk(client: Tools, name: string, args: Record<string, unknown> = {}): Promise<any> {
  return ok(await client.callTool({ name, arguments: args }));
}

/** Calls a tool and returns the code of the Gatehouse error it answered with (undefined on success). */
export async function errorCode(client: Tools, name: string, args: Record<string, unknown>) {
  return errorOf((await client.callTool({ name, arguments: args })) as Parameters<typeof errorOf>[0])?.code;
}

/** Strips core's truncation marker from the end of a part. */
export const withoutMarker = (text: string, marker: string) =>
  text.endsWith(marker) ? text.slice(0, -marker.length) : text;
