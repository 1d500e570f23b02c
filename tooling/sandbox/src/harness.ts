import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxControl } from './control.ts';
import type { SandboxDomain } from './domain.ts';
import { startSandbox } from './server.ts';
import type { Domain, Sandbox, SandboxOptions } from './types.ts';

export interface ServerHarness {
  sandbox: Sandbox;
  control: ReturnType<typeof sandboxControl>;
  /** Scratch folder for this suite (audit files and anything else), removed on close. */
  dir: string;
  /** Env for one server process: the upstream under the server's prefix, its own audit file. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** GET on the domain's sandbox API with the server's own token, for checking effects. */
  api<T = unknown>(path: string): Promise<T>;
  close(): Promise<void>;
}

/**
 * What every server's tests start from: a sandbox with a recognisable token
 * for the domain, a scratch folder, and a per-process environment under the
 * server's own prefix (`PLATFORM_OPS`, `DOCS`, `SUPPORT`). `domain` names a fragment the sandbox
 * serves (a server's folder name, or one of `domains`).
 */
export async function startServerHarness(options: {
  domain: Domain;
  prefix: string;
  token: string;
  logLevel?: string;
  /** Extra fragments (a fixture domain of the caller's own) served beside the workspace's. */
  domains?: readonly SandboxDomain[];
  /** `false`: serve only `domains`, without loading the workspace's servers' fragments. */
  discover?: boolean;
  /** Trust user tokens from this authorization server (see startSandbox). */
  identity?: SandboxOptions['identity'];
}): Promise<ServerHarness> {
  const sandbox = await startSandbox({
    ...(options.identity ? { identity: options.identity } : {}),
    tokens: { [options.domain]: options.token },
    ...(options.domains ? { domains: options.domains } : {}),
    ...(options.discover === false ? { discover: false } : {}),
  });
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-${options.domain}-`));
  const p = options.prefix;
  const token: string = sandbox.tokens[options.domain];
  let n = 0;
  return {
    sandbox,
    control: sandboxControl(sandbox),
    dir,
    env: (extra = {}) => ({
      [`${p}_API_URL`]: sandbox.url,
      [`${p}_API_TOKEN`]: token,
      [`${p}_AUDIT_FILE`]: join(dir, `audit-${++n}.jsonl`),
      // The trail's keys and signed checkpoints stay in the scratch folder, apart from the log.
      [`${p}_AUDIT_KEY_DIR`]: join(dir, 'keys'),
      [`${p}_AUDIT_ANCHOR_DIR`]: join(dir, 'anchors'),
      [`${p}_LOG_LEVEL`]: options.logLevel ?? 'debug',
      ...extra,
    }),
    api: async <T>(path: string) => {
      const response = await fetch(`${sandbox.url}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!response.ok) throw new Error(`sandbox GET ${path}: HTTP ${response.status}`);
      return (await response.json()) as T;
    },
    close: async () => {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
