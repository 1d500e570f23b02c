import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

export async function startHarness(): Promise<Harness> {
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

export { ok as structured } from '@gatehouse/core/testing';

/** Strips core's truncation marker from the end of a part. */
export const withoutMarker = (text: string, marker: string) =>
  text.endsWith(marker) ? text.slice(0, -marker.length) : text;
