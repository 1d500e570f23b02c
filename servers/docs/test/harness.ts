import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Sandbox, sandboxControl, startSandbox } from '@gatehouse/sandbox';

export const BIN = resolve(import.meta.dirname, '../dist/bin.js');
export const HANDBOOK = resolve(import.meta.dirname, '../handbook');
/** A recognisable upstream token: it must never show up anywhere a client or log reader could see it. */
export const CANARY_TOKEN = 'sbx_docs_CANARY_5e8b1d7c3a9f2046';
/** Text that lives only outside the docs root; it must never come back from any call. */
export const OUTSIDE_SECRET = 'OUTSIDE-ROOT-SECRET-9c41f';

export interface Harness {
  sandbox: Sandbox;
  control: ReturnType<typeof sandboxControl>;
  /** Scratch folder for this suite (audit files, copies of the handbook). */
  dir: string;
  /** A fresh copy of the sample handbook, plus an outside file and hostile links; returns its path. */
  handbook(name?: string): string;
  /** Env for one server process with both sources and its own audit file. */
  env(extra?: Record<string, string>): Record<string, string> & { DOCS_AUDIT_FILE: string };
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const sandbox = await startSandbox({ tokens: { docs: CANARY_TOKEN } });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-docs-'));
  let n = 0;
  const handbook = (name = `handbook-${++n}`) => {
    const root = join(dir, name);
    cpSync(HANDBOOK, root, { recursive: true });
    // Next to the root, never inside it: what links try to reach.
    const outside = join(dir, `${name}-outside`);
    mkdirSync(outside, { recursive: true });
    writeFileSync(
      join(outside, 'secret.md'),
      `---\ntitle: Outside secret\n---\n# Outside\n\n${OUTSIDE_SECRET} postgres kafka\n`,
    );
    return root;
  };
  let defaultRoot: string | undefined;
  return {
    sandbox,
    control: sandboxControl(sandbox),
    dir,
    handbook,
    env: (extra = {}) => {
      defaultRoot ??= handbook('shared');
      return {
        DOCS_ROOT: defaultRoot,
        DOCS_API_URL: sandbox.url,
        DOCS_API_TOKEN: sandbox.tokens.docs,
        DOCS_AUDIT_FILE: join(dir, `audit-${++n}.jsonl`),
        ...extra,
      };
    },
    close: async () => {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Structured content of a successful tool result, typed loosely for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test helper over arbitrary tool outputs.
export function structured(result: unknown): any {
  const r = result as { structuredContent?: unknown; isError?: unknown; content?: unknown };
  if (r.isError) throw new Error(`tool failed: ${JSON.stringify(r.content)}`);
  return r.structuredContent;
}

/** Strips core's truncation marker from the end of a part. */
export const withoutMarker = (text: string, marker: string) =>
  text.endsWith(marker) ? text.slice(0, -marker.length) : text;
