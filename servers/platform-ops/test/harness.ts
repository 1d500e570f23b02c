import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Sandbox, sandboxControl, startSandbox } from '@gatehouse/sandbox';

export const BIN = resolve(import.meta.dirname, '../dist/bin.js');
/** A recognisable upstream token: it must never show up anywhere a client or log reader could see it. */
export const CANARY = 'sbx_ops_CANARY_7f3a9c1e5b2d4086';
export const ALL_SCOPES = 'platform-ops:read,platform-ops:write,platform-ops:prod';

export interface Harness {
  sandbox: Sandbox;
  control: ReturnType<typeof sandboxControl>;
  dir: string;
  /** Env for one server process, with its own audit file. */
  env(extra?: Record<string, string>): Record<string, string> & { PLATFORM_OPS_AUDIT_FILE: string };
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const sandbox = await startSandbox({ tokens: { 'platform-ops': CANARY } });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ops-'));
  let n = 0;
  return {
    sandbox,
    control: sandboxControl(sandbox),
    dir,
    env: (extra = {}) => ({
      PLATFORM_OPS_API_URL: sandbox.url,
      PLATFORM_OPS_API_TOKEN: sandbox.tokens['platform-ops'],
      PLATFORM_OPS_AUDIT_FILE: join(dir, `audit-${++n}.jsonl`),
      PLATFORM_OPS_LOG_LEVEL: 'debug',
      ...extra,
    }),
    close: async () => {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
